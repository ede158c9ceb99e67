/**
 * A laminar {@link TaskMessage} as an AMQP message in Celery's protocol 2, and back: what kombu's
 * py-amqp transport puts on RabbitMQ. The protocol 2 headers travel as AMQP application headers,
 * the body is the raw JSON `[args, kwargs, embed]` (no base64: that envelope is only kombu's virtual
 * transports', e.g. Redis), and the properties are AMQP basic properties (content_type
 * application/json, content_encoding utf-8, correlation_id = the task id, delivery_mode 2, priority).
 * The field mapping itself is the codec's (`lib/tasks/celery/protocol-v2.ts`).
 *
 * @module
 */
import type { Message, Options } from "amqplib";
import { MAX_PRIORITY, MIN_PRIORITY, type TaskMessage } from "../message.js";
import { encodeBody, fromCeleryMessage, toCeleryMessage } from "../celery/protocol-v2.js";

/** What `channel.publish` takes for one message. */
export interface AmqpOutgoing {
  content: Buffer;
  options: Options.Publish;
}

/** AMQP priorities are an octet; laminar's are 0..9, fractions and out-of-range values clamped. */
export function amqpPriority(priority: unknown): number {
  const n = typeof priority === "number" && Number.isFinite(priority) ? Math.floor(priority) : 0;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, n));
}

/**
 * The AMQP message for `message`. `exchange`/`routingKey` only go into the codec's delivery_info
 * (the publish call names them itself).
 */
export function toAmqp(message: TaskMessage, exchange: string, routingKey: string): AmqpOutgoing {
  const celery = toCeleryMessage({ ...message, priority: amqpPriority(message.priority) }, { exchange, routingKey });
  return {
    content: Buffer.from(encodeBody(celery.body), "utf8"),
    options: {
      headers: celery.headers,
      contentType: celery.contentType,
      contentEncoding: celery.contentEncoding,
      correlationId: celery.properties.correlation_id,
      replyTo: celery.properties.reply_to || undefined,
      priority: celery.properties.priority,
      deliveryMode: 2,
    },
  };
}

/**
 * The laminar message of a delivery from `queue` (the logical name). Throws the codec's
 * CeleryProtocolError (or a SyntaxError for a body that is not JSON) for a message that is not a
 * protocol 2 task.
 */
export function fromAmqp(raw: Message, queue: string, now: () => number): TaskMessage {
  const encoding = raw.properties.contentEncoding;
  const text = raw.content.toString(encoding === "utf-8" || encoding === undefined ? "utf8" : "latin1");
  const body: unknown = JSON.parse(text);
  const headers = (raw.properties.headers ?? {}) as Record<string, unknown>;
  const properties: Record<string, unknown> = {
    priority: typeof raw.properties.priority === "number" ? raw.properties.priority : 0,
    correlation_id: raw.properties.correlationId,
  };
  return fromCeleryMessage(headers, body, properties, { queue, now });
}

/**
 * How many times the message was delivered: RabbitMQ's quorum queues count (`x-delivery-count`,
 * the redeliveries before this one); classic queues only say whether it was delivered before.
 */
export function deliveryCount(raw: Message): number {
  const count = (raw.properties.headers ?? {})["x-delivery-count"];
  if (typeof count === "number" && count >= 0) return count + 1;
  return raw.fields.redelivered ? 2 : 1;
}
