// Original file: protos/fairway/keys/v1/key_service.proto


export interface UnwrapDataKeyRequest {
  'tenantId'?: (string);
  'keyVersion'?: (number);
  'wrappedKey'?: (Buffer | Uint8Array | string);
  'kekVersion'?: (string);
}

export interface UnwrapDataKeyRequest__Output {
  'tenantId': (string);
  'keyVersion': (number);
  'wrappedKey': (Buffer);
  'kekVersion': (string);
}
