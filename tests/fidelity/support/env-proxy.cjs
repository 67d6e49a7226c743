// Loaded with `node --require` (NODE_OPTIONS) by the fidelity suite: makes Node's default HTTPS
// agent go through HTTPS_PROXY, as Node >= 24 does itself with NODE_USE_ENV_PROXY=1.
//
// Why: anypoint-cli-v4 sends its REST calls through HTTPS_PROXY (hpagent in
// anypoint-cli-command/lib/api-client.js), but its GraphQL client (cross-fetch) uses Node's
// default agent, which ignores the variable on Node 20. A user behind a corporate proxy needs the
// same. TLS verification is untouched: the proxy only tunnels (CONNECT).
'use strict';
const https = require('https');
const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;
if (proxy) {
  // hpagent is what the CLI itself uses for its proxy support; it is installed with it.
  const { HttpsProxyAgent } = require(require.resolve('hpagent', { paths: [__dirname + '/../node_modules'] }));
  https.globalAgent = new HttpsProxyAgent({ proxy });
}
