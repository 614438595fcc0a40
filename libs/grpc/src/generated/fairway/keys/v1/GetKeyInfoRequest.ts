// Original file: protos/fairway/keys/v1/key_service.proto


export interface GetKeyInfoRequest {
}

export interface GetKeyInfoRequest__Output {
}
