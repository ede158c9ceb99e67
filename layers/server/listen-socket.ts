/**
 * Binding a node `net.Server` (node:http, node:https, node:http2): what the node-based connection
 * servers share between "configured" and "accepting". uWebSockets.js binds its own way.
 *
 * @module
 */
import type { AddressInfo, Server } from "node:net";
import type { Logger } from "../../lib/logger.js";
import type { ListenOptions, ListeningAddress } from "./connection-server.js";

/**
 * Binds `server` to `options.host`/`options.port` (default 127.0.0.1:8000): rejects with the bind
 * error (a taken port), then logs later server errors instead of throwing them, and resolves with
 * the address (`https://` when `secure`, IPv6 hosts bracketed).
 */
export async function listenOn(server: Server, options: ListenOptions, secure: boolean, logger: Logger): Promise<ListeningAddress> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      server.removeListener("listening", onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.removeListener("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(options.port ?? 8000, options.host ?? "127.0.0.1");
  });
  server.on("error", (err: Error) => logger.error({ err }, "server error"));
  const address = server.address() as AddressInfo;
  const host = address.address;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return { host, port: address.port, url: `${secure ? "https" : "http"}://${urlHost}:${address.port}` };
}
