// Runs every graphql-http server audit (the GraphQL-over-HTTP spec's MUST/SHOULD checks) against a
// Tracehouse server and prints one JSON line per audit: {id, name, status, reason}.
// Usage: npm run audit -- URL API_KEY   (URL is the /graphql endpoint)
import { serverAudits } from 'graphql-http';

const [url, apiKey] = process.argv.slice(2);
if (!url || !apiKey) {
  console.error('usage: node audit.mjs URL API_KEY');
  process.exit(2);
}

// Every request carries the key: the audits check the protocol, not authentication.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('X-API-Key', apiKey);
  return fetch(input, { ...init, headers });
};

for (const audit of serverAudits({ url, fetchFn })) {
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    result = { status: 'error', reason: String(err) };
  }
  console.log(JSON.stringify({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null }));
}
