// Original file: protos/fairway/keys/v1/key_service.proto


export interface WrapDataKeyRequest {
  'tenantId'?: (string);
  'keyVersion'?: (number);
  'dataKey'?: (Buffer | Uint8Array | string);
  /**
   * Empty: the current KEK version.
   */
  'kekVersion'?: (string);
}

export interface WrapDataKeyRequest__Output {
  'tenantId': (string);
  'keyVersion': (number);
  'dataKey': (Buffer);
  /**
   * Empty: the current KEK version.
   */
  'kekVersion': (string);
}
