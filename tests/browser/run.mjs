// End-to-end browser test of `assure serve --demo` in headless Chromium,
// with an axe-core accessibility check (WCAG 2.x A/AA) on every page visited.
//
// Usage: node tests/browser/run.mjs BASE_URL DATA_DIR
//   (or ASSURE_BASE_URL / ASSURE_DATA in the environment)
// BASE_URL is where the demo server listens, e.g. http://127.0.0.1:18181
// DATA_DIR is its data folder, holding demo-accounts.txt.
//
// Exits 0 when the flow worked and axe found nothing; otherwise prints a
// readable list of what failed and exits 1.

import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const require = createRequire(import.meta.url);
const axeSource = require('axe-core').source;
const here = dirname(fileURLToPath(import.meta.url));

const base = (process.argv[2] || process.env.ASSURE_BASE_URL || '').replace(/\/+$/, '');
const dataDir = process.argv[3] || process.env.ASSURE_DATA || '';
if (!base || !dataDir) {
  console.error('usage: node run.mjs BASE_URL DATA_DIR (or ASSURE_BASE_URL and ASSURE_DATA)');
  process.exit(2);
}
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const STEP_TIMEOUT = 30_000;

// ------------------------------------------------------------ accounts

function readAccounts(dir) {
  const text = readFileSync(join(dir, 'demo-accounts.txt'), 'utf8');
  const accounts = {};
  for (const line of text.split('\n')) {
    const m = line.trim().match(/^(\S+)\s+(\S+)(?:\s+\((.*)\))?$/);
    if (m) accounts[m[1]] = { name: m[1], password: m[2], role: m[3] || '' };
  }
  for (const who of ['manager', 'chair', 'partner', 'auditor']) {
    if (!accounts[who]) throw new Error(`demo-accounts.txt in ${dir} has no "${who}" account`);
  }
  return accounts;
}

// ------------------------------------------------------------ results

const failures = []; // { step, message }
const violations = []; // { page, url, id, impact, help, helpUrl, targets[] }
const visited = [];
const needsReview = []; // axe "incomplete": could not decide, e.g. contrast over a background image

function fail(step, message) {
  failures.push({ step, message });
  console.log(`  FAIL ${step}: ${message}`);
}

async function axeCheck(page, label) {
  const url = page.url();
  visited.push({ label, url });
  try {
    const has = await page.evaluate(() => typeof window.axe !== 'undefined');
    if (!has) await page.evaluate(axeSource); // evaluate a string: no CSP involved
    const result = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      AXE_TAGS,
    );
    for (const v of result.violations) {
      violations.push({
        page: label,
        url,
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary, html: n.html })),
      });
    }
    for (const v of result.incomplete) {
      needsReview.push({
        page: label,
        id: v.id,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
      });
    }
    const n = result.violations.length;
    console.log(`  axe ${label} (${url}): ${n ? `${n} rule(s) violated` : 'no violations'}, `
      + `${result.passes.length} rule(s) passed, ${result.incomplete.length} to review by hand`);
  } catch (e) {
    fail(`axe on ${label}`, e.message);
  }
}

// Run fn as one named step; a failure is recorded and the run goes on.
async function step(name, fn) {
  console.log(`- ${name}`);
  try {
    await fn();
    return true;
  } catch (e) {
    fail(name, (e && e.stack) || String(e));
    return false;
  }
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

// ------------------------------------------------------------ helpers

// Set while a step sends a form that must be refused (422 is then the right answer).
let expectRefusal = false;

async function goto(page, path, { status = 200 } = {}) {
  const resp = await page.goto(base + path, { waitUntil: 'load' });
  expect(resp, `no response for ${path}`);
  expect(resp.status() === status, `GET ${path} answered ${resp.status()}, expected ${status}`);
  return resp;
}

async function noticeText(page) {
  const notice = page.locator('.notice[role="status"]');
  await notice.first().waitFor({ state: 'visible', timeout: 5_000 }).catch(() => {});
  if ((await notice.count()) === 0) return null;
  return (await notice.first().innerText()).trim();
}

async function errorText(page) {
  const err = page.locator('.error-summary');
  if ((await err.count()) === 0) return null;
  return (await err.first().innerText()).trim();
}

// Submit by clicking a named button, wait for the navigation and expect a
// notice (the server redirects after a successful POST with one).
async function submitExpectingNotice(page, form, buttonName, what) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    form.getByRole('button', { name: buttonName, exact: true }).click(),
  ]);
  const err = await errorText(page);
  expect(!err, `${what}: the server reported an error: ${err}`);
  const notice = await noticeText(page);
  expect(notice, `${what}: no notice after submitting (now at ${page.url()})`);
  console.log(`  notice: ${notice.replace(/\s+/g, ' ')}`);
  return notice;
}

async function signIn(page, account, label) {
  await goto(page, '/login');
  if (label) await axeCheck(page, label);
  await page.getByLabel('User name').fill(account.name);
  await page.getByLabel('Password').fill(account.password);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  ]);
  const err = await errorText(page);
  expect(!err, `signing in as ${account.name} failed: ${err}`);
  expect(!new URL(page.url()).pathname.startsWith('/login'), `still on the sign-in page after signing in as ${account.name}`);
  const who = await page.locator('.header-user').innerText();
  expect(who.includes(account.name), `header does not show ${account.name} signed in (shows "${who}")`);
}

async function signOut(page) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.locator('.header-user').getByRole('button', { name: 'Sign out' }).click(),
  ]);
  expect(new URL(page.url()).pathname.startsWith('/login') || (await page.locator('.header-user').count()) === 0,
    `still signed in after "Sign out" (at ${page.url()})`);
}

// A form holding the named button (forms are not named on these pages).
function formWithButton(page, buttonName) {
  return page.locator('form').filter({ has: page.getByRole('button', { name: buttonName, exact: true }) });
}

// ------------------------------------------------------------ the flow

async function main() {
  const accounts = readAccounts(dataDir);
  const tmp = mkdtempSync(join(tmpdir(), 'assure-browser-'));
  const stamp = Date.now().toString(36);
  const planId = `browser-test-${stamp}`;
  const challengeText = `Browser test ${stamp}: how is the Engage offer reaching night-shift officers?`;
  const responseText = `Browser test ${stamp}: briefed at every shift change since March.`;

  // A tiny CSV with the real export's header row and two rows.
  const fixture = process.env.ASSURE_FIXTURE || join(here, '..', '..', '..', 'shared', 'fixtures', 'manchester-jtai-2023.csv');
  let header = 'ref,priority,action,impact,outcome,lead,due,status,cross_refs';
  try {
    header = readFileSync(fixture, 'utf8').split(/\r?\n/)[0];
  } catch {
    console.log(`  (fixture ${fixture} not readable: using the known header row)`);
  }
  const csvPath = join(tmp, `${planId}.csv`);
  writeFileSync(csvPath, [
    header,
    '1.1,Test priority one,Write the browser test,Regressions are caught,The test runs in CI,Business manager,May 2025,,',
    '1.2,Test priority one,"Fix what axe finds, page by page",Pages work for everyone,No axe violations,GMP; Health,June 2025,,',
    '',
  ].join('\n'));

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  const page = await context.newPage();
  page.on('pageerror', (e) => fail(`script error on ${page.url()}`, e.message));
  page.on('response', (resp) => {
    const status = resp.status();
    const path = new URL(resp.url()).pathname;
    if (status >= 500) fail(`server error`, `${resp.request().method()} ${path} answered ${status}`);
    else if (status === 422 && expectRefusal) {
      // A step that sends a form the service must refuse (and show again).
    } else if (status >= 400 && path !== '/favicon.ico' && path !== '/no-such-page') {
      fail(`broken request`, `${resp.request().method()} ${path} answered ${status}`);
    }
  });

  try {
    // -------------------------------------------------- manager
    await step('sign in as manager', () => signIn(page, accounts.manager, 'login'));
    await step('dashboard', async () => {
      await goto(page, '/');
      await axeCheck(page, 'dashboard (manager)');
    });

    await step(`import plan ${planId}: preview, then confirm`, async () => {
      await goto(page, '/import');
      await axeCheck(page, 'import form');
      const form = formWithButton(page, 'Preview');
      await form.getByLabel('Plan id').fill(planId);
      await form.getByLabel('Title (for a new plan)').fill(`Browser test plan ${stamp}`);
      await form.locator('input[type="file"][name="file"]').setInputFiles(csvPath);
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        form.getByRole('button', { name: 'Preview', exact: true }).click(),
      ]);
      const preview = await page.locator('main').innerText();
      expect(preview.includes('Check the import'), `no preview after the upload (now at ${page.url()})`);
      expect(preview.includes('Write the browser test'), 'the preview lacks the first action');
      await axeCheck(page, 'import preview');
      const confirm = formWithButton(page, 'Record this plan');
      await submitExpectingNotice(page, confirm, 'Record this plan', 'import');
      expect(new URL(page.url()).pathname === `/plans/${planId}`, `after the import the browser is at ${page.url()}`);
      await axeCheck(page, 'after import (notice)');
      await goto(page, `/plans/${planId}`);
      const body = await page.locator('main').innerText();
      expect(body.includes('Write the browser test'), `imported plan page lacks its first action`);
      expect(body.includes('Fix what axe finds, page by page'), `imported plan page lacks its second action`);
      const rows = await page.locator('main table.stack tbody tr').count();
      expect(rows === 2, `the imported plan shows ${rows} actions, expected 2`);
      await axeCheck(page, 'imported plan');
    });

    await step('plan mcr-jtai-2023', async () => {
      await goto(page, '/plans/mcr-jtai-2023');
      expect((await page.locator('h1').innerText()).includes('Manchester'), 'plan page has no plan title');
      await axeCheck(page, 'plan');
    });

    await step('change the status of mcr-jtai-2023/1.2 with a rationale', async () => {
      await page.getByRole('link', { name: '1.2', exact: true }).first().click();
      await page.waitForLoadState('load');
      expect(new URL(page.url()).pathname === '/plans/mcr-jtai-2023/actions/1.2', `link 1.2 led to ${page.url()}`);
      await axeCheck(page, 'action');
      const form = formWithButton(page, 'Record the status');
      await form.getByLabel('New status').selectOption('amber');
      await form.getByLabel(/rationale/i).fill(`Browser test ${stamp}: evaluation started but slipping.`);
      await submitExpectingNotice(page, form, 'Record the status', 'status change');
      const status = await page.locator('main dl.summary').first().innerText();
      expect(/Amber/.test(status), `the action's status does not show Amber after the change: ${status}`);
      const main = await page.locator('main').innerText();
      expect(main.includes(`Browser test ${stamp}: evaluation started`), 'the rationale does not show on the action page');
      await axeCheck(page, 'action after status change (notice)');
    });

    await step('record progress on mcr-jtai-2023/1.2 with an evidence file', async () => {
      await goto(page, '/plans/mcr-jtai-2023/actions/1.2');
      const form = formWithButton(page, 'Record the progress');
      await form.getByLabel('Progress made', { exact: true }).fill(`Browser test ${stamp}: draft framework shared.`);
      const evidence = join(tmp, 'evidence.txt');
      writeFileSync(evidence, `evidence ${stamp}\n`);
      await form.locator('input[type="file"][name="evidence"]').setInputFiles(evidence);
      await submitExpectingNotice(page, form, 'Record the progress', 'progress note');
    });

    await step('a refused change keeps what was typed and says where the problem is', async () => {
      expectRefusal = true;
      await goto(page, '/plans/mcr-jtai-2023/actions/1.2');
      const form = formWithButton(page, 'Record the status');
      const typed = `Browser test ${stamp}: a rationale that must survive an error.`;
      await form.getByLabel('Why (the rationale inspectors will read)').fill(typed);
      await form.getByLabel('Date the status changed').fill('2999-01-01');
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        form.getByRole('button', { name: 'Record the status', exact: true }).click(),
      ]);
      expect((await page.title()).startsWith('Error: '), `the title does not start with "Error: " (${await page.title()})`);
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.className);
      expect(focused === 'error-summary', `the error summary is not focused (focus is on "${focused}")`);
      const link = page.locator('.error-summary a');
      expect((await link.count()) === 1, 'the error summary does not link to the field');
      expect((await link.getAttribute('href')) === '#status-effective', `the summary links to ${await link.getAttribute('href')}`);
      expect(/^[A-Z]/.test((await link.innerText()).trim()), 'the error message does not start with a capital');
      const field = page.locator('#status-effective');
      expect((await field.getAttribute('aria-invalid')) === 'true', 'the date field is not marked aria-invalid');
      expect((await field.getAttribute('aria-describedby')).includes('status-effective-error'), 'the date field is not described by its error');
      expect((await page.locator('#rationale').inputValue()) === typed, 'the typed rationale was lost');
      expect((await page.locator('#status-effective').inputValue()) === '2999-01-01', 'the typed date was lost');
      await axeCheck(page, 'action with an error');
      // Following the summary's link moves to the field.
      await link.click();
      const active = await page.evaluate(() => document.activeElement && document.activeElement.id);
      expect(active === 'status-effective', `following the summary link focused "${active}"`);
      expectRefusal = false;
    });

    await step('carrying over asks first, and going back keeps what was typed', async () => {
      await goto(page, '/plans/mcr-jtai-2023/actions/1.3');
      const form = formWithButton(page, 'Continue');
      const reason = `Browser test ${stamp}: agreed at the March board to continue.`;
      await form.getByLabel('Why it is carried over').fill(reason);
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        form.getByRole('button', { name: 'Continue', exact: true }).click(),
      ]);
      const main = await page.locator('main').innerText();
      expect(/cannot be undone/.test(main), `the confirmation does not say it cannot be undone: ${main.slice(0, 300)}`);
      expect(main.includes(reason), 'the confirmation does not show the reason');
      await axeCheck(page, 'carry-over confirmation');
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: 'Change what I typed', exact: true }).click(),
      ]);
      expect((await page.locator('#reason').inputValue()) === reason, 'going back lost the reason');
      expect(!(await page.locator('main').innerText()).includes('Carried over (Blue)'), 'going back carried the action over');
    });

    await step('every page reflows at 320 px (no sideways scrolling)', async () => {
      await page.setViewportSize({ width: 320, height: 800 });
      for (const path of ['/', '/plans/mcr-jtai-2023', '/plans/mcr-jtai-2023/actions/1.2', '/challenges',
        '/history', '/verify', '/agencies', '/import', '/plans/mcr-jtai-2023/report']) {
        await goto(page, path);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width <= 320, `${path} is ${width} px wide at a 320 px viewport`);
      }
      console.log('  every page fits 320 px');
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step('history and verification (manager)', async () => {
      await goto(page, '/history');
      await axeCheck(page, 'history');
      await goto(page, '/verify');
      await axeCheck(page, 'verify');
    });

    await step('sign out (manager)', () => signOut(page));

    // -------------------------------------------------- chair
    let challengeId = null;
    await step('sign in as chair', () => signIn(page, accounts.chair));
    await step('raise a challenge to GMP', async () => {
      await goto(page, '/challenges');
      await axeCheck(page, 'challenges (chair)');
      const form = formWithButton(page, 'Raise the challenge');
      await form.getByLabel('To agency').fill('GMP');
      await form.getByLabel('Challenge', { exact: true }).fill(challengeText);
      await form.getByLabel(/About actions/).fill('mcr-jtai-2023/2.3');
      await form.getByLabel(/Response due/).fill('2027-01-31');
      const notice = await submitExpectingNotice(page, form, 'Raise the challenge', 'raise challenge');
      const m = notice.match(/C-\d+/);
      if (m) challengeId = m[0];
      if (!challengeId) {
        await goto(page, '/challenges');
        const row = page.locator('tr').filter({ hasText: challengeText });
        challengeId = (await row.locator('a').first().innerText()).trim();
      }
      expect(/^C-\d+$/.test(challengeId || ''), `could not find the new challenge's id (notice: ${notice})`);
      console.log(`  challenge ${challengeId}`);
      await axeCheck(page, 'after raising a challenge (notice)');
    });
    await step('sign out (chair)', () => signOut(page));

    // -------------------------------------------------- partner (GMP)
    await step('sign in as partner (GMP)', () => signIn(page, accounts.partner));
    await step('dashboard (partner)', async () => {
      await goto(page, '/');
      await axeCheck(page, 'dashboard (partner)');
    });
    await step(`answer the challenge as partner`, async () => {
      expect(challengeId, 'no challenge was raised');
      await goto(page, '/challenges');
      await axeCheck(page, 'challenges (partner)');
      await page.getByRole('link', { name: challengeId, exact: true }).click();
      await page.waitForLoadState('load');
      expect(new URL(page.url()).pathname === `/challenges/${challengeId}`, `link ${challengeId} led to ${page.url()}`);
      await axeCheck(page, 'challenge (partner)');
      const form = formWithButton(page, 'Record the response');
      await form.locator('textarea[name="text"]').fill(responseText);
      await submitExpectingNotice(page, form, 'Record the response', 'response');
      const main = await page.locator('main').innerText();
      expect(main.includes(responseText), 'the response does not show on the challenge page');
      expect(/Responded/.test(main), 'the challenge does not show as Responded');
      await axeCheck(page, 'challenge after response (notice)');
    });
    await step('sign out (partner)', () => signOut(page));

    // -------------------------------------------------- chair again: review
    await step('sign in as chair (review)', () => signIn(page, accounts.chair));
    await step('challenge (chair) shows the response', async () => {
      expect(challengeId, 'no challenge was raised');
      await goto(page, `/challenges/${challengeId}`);
      const main = await page.locator('main').innerText();
      expect(main.includes(responseText), 'the chair does not see the response');
      await axeCheck(page, 'challenge (chair)');
    });
    await step('sign out (chair, review)', () => signOut(page));

    // -------------------------------------------------- auditor
    await step('sign in as auditor', () => signIn(page, accounts.auditor));
    await step('plan as of 2024-01-31 via the date filter', async () => {
      await goto(page, '/plans/mcr-jtai-2023');
      const form = formWithButton(page, 'Show');
      await form.getByLabel('As it stood on').fill('2024-01-31');
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        form.getByRole('button', { name: 'Show', exact: true }).click(),
      ]);
      const url = new URL(page.url());
      expect(url.searchParams.get('as_of') === '2024-01-31', `the filter did not carry as_of (at ${page.url()})`);
      const main = await page.locator('main').innerText();
      // On 2024-01-31 6.1 was not yet complete and 6.5 not yet carried over.
      expect(!/Carried over \(Blue\)\s+1/.test(main), 'the as-of view still counts a carried-over action');
      expect(/31 January 2024/.test(main), 'the as-of view does not say, in words, which date it shows');
      await axeCheck(page, 'plan as of 2024-01-31');
    });
    await step('history and verification (auditor)', async () => {
      await goto(page, '/history');
      await axeCheck(page, 'history (auditor)');
      await goto(page, '/verify');
      await axeCheck(page, 'verify (auditor)');
      const form = formWithButton(page, 'Check the ledger now');
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        form.getByRole('button', { name: 'Check the ledger now', exact: true }).click(),
      ]);
      const err = await errorText(page);
      expect(!err, `verification reported an error: ${err}`);
      // What was checked, in words, before the cryptographic detail.
      const lastRun = await page.locator('main .notice').last().innerText();
      expect(/are intact and in order/.test(lastRun), `the verify page does not say in words what was checked: ${lastRun}`);
      expect(/co-signed the record as it stood on/.test(lastRun), `the verify page does not say who co-signed: ${lastRun}`);
      console.log(`  ${lastRun.replace(/\s+/g, ' ')}`);
      await axeCheck(page, 'verify after running it (auditor)');
    });
    await step('report, printed to PDF', async () => {
      await goto(page, '/plans/mcr-jtai-2023');
      await page.getByRole('link', { name: 'Inspection report' }).click();
      await page.waitForLoadState('load');
      expect(new URL(page.url()).pathname === '/plans/mcr-jtai-2023/report', `report link led to ${page.url()}`);
      await axeCheck(page, 'report');
      await page.emulateMedia({ media: 'print' });
      await axeCheck(page, 'report (print media)');
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      await page.emulateMedia({ media: 'screen' });
      expect(pdf.length > 1000, `the PDF is only ${pdf.length} bytes`);
      expect(pdf.subarray(0, 4).toString('latin1') === '%PDF', 'the PDF does not start with %PDF');
      const out = join(tmp, 'report.pdf');
      writeFileSync(out, pdf);
      // Page by page: the summary alone on the first, a running header and a page
      // number on each, and no page left nearly blank (under a third of a typical
      // page's words, the last page apart).
      const doc = await getDocument({ data: new Uint8Array(pdf), verbosity: 0 }).promise;
      const pages = [];
      for (let n = 1; n <= doc.numPages; n++) {
        const content = await (await doc.getPage(n)).getTextContent();
        pages.push(content.items.map((item) => item.str).join(' ').replace(/\s+/g, ' '));
      }
      const total = pages.length;
      expect(total >= 3, `the report printed to only ${total} page(s)`);
      pages.forEach((text, i) => {
        expect(text.includes(`Page ${i + 1} of ${total}`), `page ${i + 1} has no page number: ${text.slice(0, 200)}`);
        expect(/As it stood on \d{1,2} [A-Z][a-z]+ \d{4}/.test(text), `page ${i + 1} has no running header`);
        expect(text.includes('Manchester JTAI serious violence action plan'), `page ${i + 1} does not name the plan`);
      });
      expect(pages[0].includes('Summary') && pages[0].includes('The record'), 'the first page is not the summary');
      expect(!/Priority 1\b/.test(pages[0]), 'the summary page runs on into the actions');
      expect(/intact and in order/.test(pages[0]), 'the summary does not say in words what was checked');
      const lengths = pages.map((text) => text.length).sort((a, b) => a - b);
      const median = lengths[Math.floor(lengths.length / 2)];
      pages.slice(0, -1).forEach((text, i) => {
        expect(text.length >= median / 3, `page ${i + 1} is nearly blank (${text.length} characters; a typical page has ${median})`);
      });
      console.log(`  PDF ${pdf.length} bytes, ${total} A4 pages; characters per page ${pages.map((t) => t.length).join(', ')}`);
    });
    await step('404 page', async () => {
      await goto(page, '/no-such-page', { status: 404 });
      expect((await page.locator('h1').innerText()).includes('not found'), 'the 404 page has no "not found" heading');
      await axeCheck(page, 'error 404');
    });
    await step('sign out (auditor)', async () => {
      await goto(page, '/');
      await signOut(page);
    });
  } finally {
    await browser.close();
    if (!process.env.ASSURE_BROWSER_KEEP) rmSync(tmp, { recursive: true, force: true });
    else console.log(`(kept ${tmp})`);
  }
}

function report() {
  console.log('');
  console.log(`Pages checked with axe (${AXE_TAGS.join(', ')}): ${visited.length}`);
  if (needsReview.length) {
    console.log(`\naxe could not decide these (informational, not a failure):`);
    for (const r of needsReview) {
      console.log(`  [${r.page}] ${r.id}: ${r.help}`);
      for (const n of r.nodes) {
        console.log(`    at ${n.target}${n.summary ? ` — ${n.summary.replace(/\n\s*/g, ' | ')}` : ''}`);
      }
    }
  }
  if (violations.length) {
    console.log(`\nAccessibility violations: ${violations.length} (page × rule)`);
    for (const v of violations) {
      console.log(`\n[${v.page}] ${v.url}`);
      console.log(`  rule ${v.id} (${v.impact}): ${v.help}`);
      console.log(`  ${v.helpUrl}`);
      for (const n of v.nodes) {
        console.log(`    at ${n.target}`);
        console.log(`       ${n.html.length > 200 ? n.html.slice(0, 200) + '…' : n.html}`);
        if (n.summary) console.log(`       ${n.summary.replace(/\n\s*/g, ' | ')}`);
      }
    }
  }
  if (failures.length) {
    console.log(`\nFlow failures: ${failures.length}`);
    for (const f of failures) console.log(`  - ${f.step}: ${f.message}`);
  }
  const ok = !failures.length && !violations.length;
  console.log(`\nbrowser test: ${ok ? 'PASSED' : 'FAILED'} (${failures.length} flow failure(s), ${violations.length} accessibility violation(s))`);
  return ok;
}

try {
  await main();
} catch (e) {
  fail('setup', (e && e.stack) || String(e));
}
process.exit(report() ? 0 : 1);
