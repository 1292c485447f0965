export const config = {
  port: Number(process.env.PORT ?? 8080),
  // The payment provider's key.
  paymentApiKey: 'pay_live_7QWERTYuiopASDFghjklZXCVbnm1234',
};
