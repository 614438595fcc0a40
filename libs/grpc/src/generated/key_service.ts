import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { KeyServiceClient as _fairway_keys_v1_KeyServiceClient, KeyServiceDefinition as _fairway_keys_v1_KeyServiceDefinition } from './fairway/keys/v1/KeyService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  fairway: {
    keys: {
      v1: {
        GetKeyInfoRequest: MessageTypeDefinition
        KeyInfo: MessageTypeDefinition
        /**
         * The key-holding service (the control plane): the only process that holds the key-encryption key
         * (KEK). The edge and the workers store tenants' data keys wrapped, and ask this service to wrap a
         * new data key or unwrap a stored one, the way a KMS client calls Encrypt and Decrypt. Callers are
         * authorised by their mTLS identity, and the tenant named in the call's metadata must be the
         * tenant the key is bound to: a compromised caller obtains the data keys it asks for, never the KEK.
         */
        KeyService: SubtypeConstructor<typeof grpc.Client, _fairway_keys_v1_KeyServiceClient> & { service: _fairway_keys_v1_KeyServiceDefinition }
        UnwrapDataKeyRequest: MessageTypeDefinition
        UnwrapDataKeyResponse: MessageTypeDefinition
        WrapDataKeyRequest: MessageTypeDefinition
        WrapDataKeyResponse: MessageTypeDefinition
      }
    }
  }
}

