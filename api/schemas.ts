/** Schemas shared by several plugins. */
import { Type } from 'typebox';

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), detail: Type.Optional(Type.Unknown()) }),
});

export const errorResponses = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ErrorBody]));

export const TokenPairBody = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  sessionId: Type.String(),
});

export const UserBody = Type.Object({ id: Type.String(), email: Type.String(), displayName: Type.String() });
