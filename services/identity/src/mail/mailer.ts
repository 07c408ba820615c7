/**
 * Sending mail: nodemailer over SMTP to the configured server (`mail.smtpUrl`), or to the
 * in-process development mailbox when none is configured and `mail.devMailbox` is on.
 * With neither, mail cannot be sent and the features that need it (sign-up, reset) are
 * refused at start rather than failing silently later.
 */
import nodemailer from 'nodemailer';
import type { IdentityConfig } from '../config.ts';
import { type DevMailbox, startDevMailbox } from './dev-mailbox.ts';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  /** 'smtp' (a real server), 'dev-mailbox' or 'none'. */
  readonly kind: 'smtp' | 'dev-mailbox' | 'none';
  readonly mailbox: DevMailbox | undefined;
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

export async function createMailer(config: IdentityConfig['mail']): Promise<Mailer> {
  if (config.smtpUrl) {
    const transport = nodemailer.createTransport(config.smtpUrl);
    return {
      kind: 'smtp',
      mailbox: undefined,
      async send(mail) {
        await transport.sendMail({ from: config.from, ...mail });
      },
      async close() {
        transport.close();
      },
    };
  }
  if (config.devMailbox) {
    const mailbox = await startDevMailbox(config.devMailboxSize);
    const transport = nodemailer.createTransport({
      host: mailbox.host,
      port: mailbox.port,
      secure: false,
      ignoreTLS: true,
    });
    return {
      kind: 'dev-mailbox',
      mailbox,
      async send(mail) {
        await transport.sendMail({ from: config.from, ...mail });
      },
      async close() {
        transport.close();
        await mailbox.close();
      },
    };
  }
  return {
    kind: 'none',
    mailbox: undefined,
    async send() {
      throw new Error('no mail transport: set mail.smtpUrl (IDENTITY_SMTP_URL)');
    },
    async close() {},
  };
}
