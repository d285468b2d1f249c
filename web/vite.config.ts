// Builds the SolidJS UI into web/dist, which the NixSpace server serves at `/` with an SPA fallback.
// In `npm run dev:web` the API, sign-in and GraphQL routes (WebSockets included) go to a local server.
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

const root = decodeURIComponent(new URL('.', import.meta.url).pathname);
const apiServer = 'http://127.0.0.1:7777';

export default defineConfig({
  root,
  plugins: [solid()],
  // The wire contract the server speaks (src/wire), imported as `@wire/…`.
  resolve: { alias: { '@wire': `${root}../src/wire` } },
  build: {
    outDir: `${root}dist`,
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: apiServer, ws: true },
      '/auth': { target: apiServer },
      '/graphql': { target: apiServer, ws: true },
    },
  },
});
