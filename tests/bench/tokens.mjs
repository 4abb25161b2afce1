// Makes the keys and tokens `cargo xtask bench` loads Envoy with: one
// RSA-2048 signing key (RS256), its JWKS, and COUNT distinct valid tokens.
// Prints {"jwks": {...}, "tokens": [...]} on stdout.
//
//   ISSUER=https://bench.portcullis.test COUNT=1000 node tokens.mjs

import { createSign, generateKeyPairSync, randomUUID } from "node:crypto";

const issuer = process.env.ISSUER || "https://bench.portcullis.test";
const audience = process.env.AUDIENCE || "portcullis";
const count = Number(process.env.COUNT || 1);

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const kid = randomUUID();
const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };

const b64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const header = b64url({ alg: "RS256", typ: "JWT", kid });

const tokens = [];
for (let i = 0; i < count; i++) {
  const payload = b64url({
    iss: issuer,
    aud: audience,
    sub: `bench-client-${i}`,
    client_id: `bench-client-${i}`,
    groups: ["bench"],
    iat: now,
    nbf: now,
    exp: now + 3600,
    jti: randomUUID(),
  });
  const signer = createSign("RSA-SHA256");
  signer.update(`${header}.${payload}`);
  tokens.push(`${header}.${payload}.${signer.sign(privateKey).toString("base64url")}`);
}
console.log(JSON.stringify({ issuer, audience, jwks: { keys: [jwk] }, tokens }));
