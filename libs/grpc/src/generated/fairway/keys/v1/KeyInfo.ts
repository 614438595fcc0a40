// Original file: protos/fairway/keys/v1/key_service.proto


export interface KeyInfo {
  'currentKekVersion'?: (string);
}

export interface KeyInfo__Output {
  'currentKekVersion': (string);
}
