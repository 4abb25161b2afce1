// Decides a pending hold on the approvers' page, in Debian's headless
// Chromium driven by playwright-core, and takes a screenshot.
//
// Environment:
//   PORTCULLIS_URL        control-plane base URL
//   APPROVER_TOKEN        the approver's OIDC access token
//   DECISION              approve | deny
//   REASON                the reason typed into the page
//   SCREENSHOT            where to save the PNG
//   GRANT_MINUTES         optional: approve with a just-in-time grant
//
// Prints {"hold": id, "status": ..., "rows": n} on success.

import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const base = env("PORTCULLIS_URL");
const decision = env("DECISION", "approve");
const expected = decision === "deny" ? "denied" : "approved";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/approvals/`);
  await page.getByTestId("token-input").fill(env("APPROVER_TOKEN"));
  await page.getByTestId("token-save").click();

  const row = page.locator('[data-testid="hold-row"][data-status="pending"]').first();
  await row.waitFor({ timeout: 20000 });
  const rows = await page.getByTestId("hold-row").count();
  const hold = await row.getAttribute("data-hold-id");
  await row.click();
  await page.locator(`[data-testid="hold-detail"][data-hold-id="${hold}"]`).waitFor();

  await page.getByTestId("decision-reason").fill(env("REASON", "checked with the requester"));
  if (process.env.GRANT_MINUTES) {
    await page.getByTestId("grant-minutes").fill(process.env.GRANT_MINUTES);
  }
  await page.getByTestId(decision === "deny" ? "deny-button" : "approve-button").click();
  await page.locator(`[data-testid="status-badge"][data-status="${expected}"]`).waitFor({ timeout: 20000 });
  await page.screenshot({ path: env("SCREENSHOT"), fullPage: true });
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(JSON.stringify({ hold, status: expected, rows }));
} finally {
  await browser.close();
}
