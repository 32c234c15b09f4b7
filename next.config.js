/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // the dev server's hot-reload socket also answers pages opened at 127.0.0.1
  allowedDevOrigins: ['127.0.0.1'],
  // the project is type-checked as a whole by `npm run typecheck` (server, tests, app)
  typescript: { ignoreBuildErrors: true },
  // server/ is compiled separately for the custom server; the page imports only its types
  serverExternalPackages: ['mysql2', 'ioredis', 'kafkajs', 'pino', 'ws'],
};

export default nextConfig;
