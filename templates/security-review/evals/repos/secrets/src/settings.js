export const settings = {
  // read from the environment at start; never in the source
  apiToken: process.env.API_TOKEN,
  region: 'eu-west-1',
};
