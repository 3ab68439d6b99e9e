// Sign up, sign in and create a webhook with supabase-js. Runs as it is under Deno
// (`npx deno run -A docs/examples/first_webhook.mjs`) and Node.js 22 or newer
// (`node docs/examples/first_webhook.mjs`); see "Manage webhooks" in the README.
import { createClient } from "@supabase/supabase-js";
import process from "node:process";

const {
  SUPABASE_URL = "http://127.0.0.1:54321", // the local stack; hosted: https://<ref>.supabase.co
  SUPABASE_ANON_KEY = "", // .local/stack.env, or the project's API keys page
  TRADER_EMAIL = "trader@example.com",
  TRADER_PASSWORD = "",
} = process.env;

const supabase = createClient(SUPABASE_URL, SUPABASE_ANON_KEY);

// Sign up once. The local stack confirms the address at once; a hosted project that asks for
// confirmation signs the user in only after they click the link in its email.
const signUp = await supabase.auth.signUp({ email: TRADER_EMAIL, password: TRADER_PASSWORD });
if (signUp.error && signUp.error.code !== "user_already_exists") throw signUp.error;

const signIn = await supabase.auth.signInWithPassword({
  email: TRADER_EMAIL,
  password: TRADER_PASSWORD,
});
if (signIn.error) throw signIn.error;

// From here on, functions.invoke sends the user's access token.
const { data, error } = await supabase.functions.invoke("webhook-configs", {
  method: "POST",
  body: {
    name: "Breakout strategy",
    settings: { simulation: true, sizing: { method: "dollar_amount", value: 500 } },
  },
});
if (error) throw error;

// The token is shown this once: TradingView posts to this URL.
console.log(`webhook_url: ${data.data.webhook_url}?token=${data.security_token}`);
await supabase.auth.signOut({ scope: "local" });
