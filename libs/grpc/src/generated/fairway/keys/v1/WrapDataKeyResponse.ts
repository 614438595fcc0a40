// Original file: protos/fairway/keys/v1/key_service.proto


export interface WrapDataKeyResponse {
  'wrappedKey'?: (Buffer | Uint8Array | string);
  'kekVersion'?: (string);
}

export interface WrapDataKeyResponse__Output {
  'wrappedKey': (Buffer);
  'kekVersion': (string);
}
