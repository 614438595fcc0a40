// Original file: protos/fairway/keys/v1/key_service.proto


export interface UnwrapDataKeyResponse {
  'dataKey'?: (Buffer | Uint8Array | string);
}

export interface UnwrapDataKeyResponse__Output {
  'dataKey': (Buffer);
}
