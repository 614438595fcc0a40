// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto


export interface ListTenantsRequest {
}

export interface ListTenantsRequest__Output {
}
