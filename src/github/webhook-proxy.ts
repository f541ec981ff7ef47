// Local development without a public address: GitHub delivers to a channel of a webhook proxy
// (WEBHOOK_PROXY_URL, e.g. a smee.io channel) and this process listens to it and posts each
// delivery to its own webhook endpoint — as Probot apps do, with Probot's own client (smee-client).
// The delivery then goes through the same intake as any other: its signature is checked, and
// nothing is acted on that WEBHOOK_SECRET did not sign. The proxy sends the payload re-serialised
// (JSON.stringify of the parsed body); GitHub's payloads are compact JSON, so the bytes match.
// The channel's URL is treated as a secret: anyone who has it reads the deliveries.
import { SmeeClient } from 'smee-client';
import type { Logger } from '../system/log.js';

export interface WebhookProxy {
  stop(): Promise<void>;
}

/** Listens to `source` and forwards each delivery to `target`; reconnects when the stream drops. */
export function startWebhookProxy(source: string, target: string, log: Logger): WebhookProxy {
  const client = new SmeeClient({
    source,
    target,
    logger: {
      // What smee-client says names the channel; our lines say what happened without it.
      info: (message: string) => {
        const forwarded = /^POST \S+ - (\d+)$/.exec(message);
        if (forwarded)
          log.debug({ status: Number(forwarded[1]) }, 'a proxied delivery was forwarded');
      },
      error: () => log.warn('the webhook proxy (WEBHOOK_PROXY_URL) could not forward a delivery'),
    },
  });
  client.start().then(
    () => log.info('receiving webhooks through the proxy in WEBHOOK_PROXY_URL'),
    () => log.warn('the webhook proxy in WEBHOOK_PROXY_URL cannot be reached yet; trying again'),
  );
  return { stop: () => client.stop() };
}
