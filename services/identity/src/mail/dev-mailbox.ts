/**
 * The development mailbox: a real SMTP server (smtp-server) on a loopback port inside the
 * identity process, so `npm start` can sign up and reset a password with no mail server.
 * Messages are parsed (mailparser) and kept in memory, newest first, up to `size`; admins
 * read them through the admin API (the console's Mailbox page) and tests poll them.
 * Never a relay: it accepts mail only from this machine and sends nothing on.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface MailboxMessage {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
}

export interface DevMailbox {
  /** Where nodemailer delivers. */
  host: string;
  port: number;
  list(options?: { to?: string }): MailboxMessage[];
  get(id: string): MailboxMessage | undefined;
  clear(): void;
  close(): Promise<void>;
}

export async function startDevMailbox(size: number): Promise<DevMailbox> {
  const messages: MailboxMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    banner: 'Portico development mailbox',
    size: 1024 * 1024,
    logger: false,
    onConnect(session, callback) {
      const ip = session.remoteAddress.replace(/^::ffff:/, '');
      callback(ip === '127.0.0.1' || ip === '::1' ? undefined : new Error('loopback only'));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.unshift({
            id: randomUUID(),
            receivedAt: new Date().toISOString(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : null,
          });
          messages.length = Math.min(messages.length, size);
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    list(options = {}) {
      const to = options.to?.toLowerCase();
      return to ? messages.filter((m) => m.to.includes(to)) : [...messages];
    },
    get: (id) => messages.find((m) => m.id === id),
    clear() {
      messages.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
