// Revokes the first just-in-time grant listed on the approvers' page, in
// Debian's headless Chromium driven by playwright-core.
//
// Environment:
//   PORTCULLIS_URL        control-plane base URL
//   APPROVER_TOKEN        the approver's OIDC access token
//   REASON                the reason typed into the page
//
// Prints {"grant": id, "left": n} on success: the grant revoked, and how many
// grants the page lists afterwards.

import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${env("PORTCULLIS_URL")}/approvals/`);
  await page.getByTestId("token-input").fill(env("APPROVER_TOKEN"));
  await page.getByTestId("token-save").click();

  const row = page.getByTestId("grant-row").first();
  await row.waitFor({ timeout: 20000 });
  const grant = await row.getAttribute("data-grant-id");
  await row.getByTestId("grant-reason").fill(env("REASON", "no longer needed"));
  await row.getByTestId("revoke-button").click();
  await page.locator(`[data-testid="grant-row"][data-grant-id="${grant}"]`).waitFor({ state: "detached", timeout: 20000 });
  const message = await page.getByTestId("grant-message").textContent();
  if (!message.includes("revoked")) throw new Error(`the page said: ${message}`);
  const left = await page.getByTestId("grant-row").count();
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(JSON.stringify({ grant, left }));
} finally {
  await browser.close();
}
