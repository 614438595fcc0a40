// Original file: protos/fairway/keys/v1/key_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetKeyInfoRequest as _fairway_keys_v1_GetKeyInfoRequest, GetKeyInfoRequest__Output as _fairway_keys_v1_GetKeyInfoRequest__Output } from '../../../fairway/keys/v1/GetKeyInfoRequest';
import type { KeyInfo as _fairway_keys_v1_KeyInfo, KeyInfo__Output as _fairway_keys_v1_KeyInfo__Output } from '../../../fairway/keys/v1/KeyInfo';
import type { UnwrapDataKeyRequest as _fairway_keys_v1_UnwrapDataKeyRequest, UnwrapDataKeyRequest__Output as _fairway_keys_v1_UnwrapDataKeyRequest__Output } from '../../../fairway/keys/v1/UnwrapDataKeyRequest';
import type { UnwrapDataKeyResponse as _fairway_keys_v1_UnwrapDataKeyResponse, UnwrapDataKeyResponse__Output as _fairway_keys_v1_UnwrapDataKeyResponse__Output } from '../../../fairway/keys/v1/UnwrapDataKeyResponse';
import type { WrapDataKeyRequest as _fairway_keys_v1_WrapDataKeyRequest, WrapDataKeyRequest__Output as _fairway_keys_v1_WrapDataKeyRequest__Output } from '../../../fairway/keys/v1/WrapDataKeyRequest';
import type { WrapDataKeyResponse as _fairway_keys_v1_WrapDataKeyResponse, WrapDataKeyResponse__Output as _fairway_keys_v1_WrapDataKeyResponse__Output } from '../../../fairway/keys/v1/WrapDataKeyResponse';

/**
 * The key-holding service (the control plane): the only process that holds the key-encryption key
 * (KEK). The edge and the workers store tenants' data keys wrapped, and ask this service to wrap a
 * new data key or unwrap a stored one, the way a KMS client calls Encrypt and Decrypt. Callers are
 * authorised by their mTLS identity, and the tenant named in the call's metadata must be the
 * tenant the key is bound to: a compromised caller obtains the data keys it asks for, never the KEK.
 */
export interface KeyServiceClient extends grpc.Client {
  /**
   * The KEK version new data keys are wrapped with.
   */
  GetKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  GetKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  GetKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  GetKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  /**
   * The KEK version new data keys are wrapped with.
   */
  getKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  getKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  getKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  getKeyInfo(argument: _fairway_keys_v1_GetKeyInfoRequest, callback: grpc.requestCallback<_fairway_keys_v1_KeyInfo__Output>): grpc.ClientUnaryCall;
  
  /**
   * Unwraps a stored data key; fails when the bytes, the KEK version or the binding differ.
   */
  UnwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  UnwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  UnwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  UnwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Unwraps a stored data key; fails when the bytes, the KEK version or the binding differ.
   */
  unwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  unwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  unwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  unwrapDataKey(argument: _fairway_keys_v1_UnwrapDataKeyRequest, callback: grpc.requestCallback<_fairway_keys_v1_UnwrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Wraps a new data key with the current KEK, bound to the tenant and key version.
   */
  WrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  WrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  WrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  WrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Wraps a new data key with the current KEK, bound to the tenant and key version.
   */
  wrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  wrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  wrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  wrapDataKey(argument: _fairway_keys_v1_WrapDataKeyRequest, callback: grpc.requestCallback<_fairway_keys_v1_WrapDataKeyResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * The key-holding service (the control plane): the only process that holds the key-encryption key
 * (KEK). The edge and the workers store tenants' data keys wrapped, and ask this service to wrap a
 * new data key or unwrap a stored one, the way a KMS client calls Encrypt and Decrypt. Callers are
 * authorised by their mTLS identity, and the tenant named in the call's metadata must be the
 * tenant the key is bound to: a compromised caller obtains the data keys it asks for, never the KEK.
 */
export interface KeyServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The KEK version new data keys are wrapped with.
   */
  GetKeyInfo: grpc.handleUnaryCall<_fairway_keys_v1_GetKeyInfoRequest__Output, _fairway_keys_v1_KeyInfo>;
  
  /**
   * Unwraps a stored data key; fails when the bytes, the KEK version or the binding differ.
   */
  UnwrapDataKey: grpc.handleUnaryCall<_fairway_keys_v1_UnwrapDataKeyRequest__Output, _fairway_keys_v1_UnwrapDataKeyResponse>;
  
  /**
   * Wraps a new data key with the current KEK, bound to the tenant and key version.
   */
  WrapDataKey: grpc.handleUnaryCall<_fairway_keys_v1_WrapDataKeyRequest__Output, _fairway_keys_v1_WrapDataKeyResponse>;
  
}

export interface KeyServiceDefinition extends grpc.ServiceDefinition {
  GetKeyInfo: MethodDefinition<_fairway_keys_v1_GetKeyInfoRequest, _fairway_keys_v1_KeyInfo, _fairway_keys_v1_GetKeyInfoRequest__Output, _fairway_keys_v1_KeyInfo__Output>
  UnwrapDataKey: MethodDefinition<_fairway_keys_v1_UnwrapDataKeyRequest, _fairway_keys_v1_UnwrapDataKeyResponse, _fairway_keys_v1_UnwrapDataKeyRequest__Output, _fairway_keys_v1_UnwrapDataKeyResponse__Output>
  WrapDataKey: MethodDefinition<_fairway_keys_v1_WrapDataKeyRequest, _fairway_keys_v1_WrapDataKeyResponse, _fairway_keys_v1_WrapDataKeyRequest__Output, _fairway_keys_v1_WrapDataKeyResponse__Output>
}
