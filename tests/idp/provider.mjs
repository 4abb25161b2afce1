// A real OpenID provider for the end-to-end tests: `oidc-provider`, the
// certified Node.js implementation, issuing client-credentials access tokens
// as signed JWTs.
//
//   PORT=9000 node provider.mjs
//
// Clients (client_secret_basic):
//   ml-agent / ml-agent-secret   groups: ["ml"]
//   ci-bot   / ci-bot-secret     groups: ["ci"]
//   approver / approver-secret   groups: ["approvers"]
//   intruder / intruder-secret   groups: []
//   dba-1    / dba-1-secret      groups: ["dba"]
//   dba-2    / dba-2-secret      groups: ["dba"]
//
// POST /__rotate makes a new signing key and keeps the old one published
// (as providers do during rotation); tokens issued afterwards carry the new
// `kid`. It swaps the provider in place: the process keeps running.

import { createServer } from "node:http";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.env.PORT || 9000);
const issuer = `http://127.0.0.1:${port}`;
const audience = process.env.AUDIENCE || "portcullis";

const clients = [
  { id: "ml-agent", groups: ["ml"] },
  { id: "ci-bot", groups: ["ci"] },
  { id: "approver", groups: ["approvers"] },
  { id: "intruder", groups: [] },
  { id: "dba-1", groups: ["dba"] },
  { id: "dba-2", groups: ["dba"] },
];
const groupsOf = new Map(clients.map((c) => [c.id, c.groups]));

function newKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };
}

function makeProvider(keys) {
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.id,
      client_secret: `${c.id}-secret`,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    jwks: { keys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => `urn:${audience}`,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: "api",
          audience,
          accessTokenTTL: 600,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
    extraTokenClaims: (ctx, token) => ({ groups: groupsOf.get(token.clientId) || [] }),
  });
  provider.proxy = false;
  return provider;
}

let keys = [newKey()];
let provider = makeProvider(keys);
let handler = provider.callback();

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/__rotate") {
    keys = [newKey(), keys[0]];
    provider = makeProvider(keys);
    handler = provider.callback();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ kid: keys[0].kid, previous: keys[1].kid }));
    return;
  }
  handler(req, res);
});

server.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
