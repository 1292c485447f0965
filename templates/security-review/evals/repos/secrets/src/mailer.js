import { createTransport } from './transport.js';

export const mailer = createTransport({
  host: 'smtp.example.com',
  user: 'robot',
  password: 'Sup3rS3cretMailPassw0rd!',
});
