// The browser console in a real headless Chromium (Debian's, driven by playwright-core).
// Usage: node interop/console_check.mjs CONSOLE_URL SCREENSHOT.png
// Loads the page wsexec serves at CONSOLE_URL (http://127.0.0.1:PORT/?token=…), types commands into it
// as a user would, and prints ONE JSON object of what it observed on stdout. It judges nothing:
// ConsoleBrowserTest asserts on the facts. Exits 1 (with the error on stderr) if it cannot get them.
import { launchChromium } from './chromium.mjs';

const [consoleUrl, screenshot] = process.argv.slice(2);
const facts = {};
let browser;
let context;
try {
    browser = await launchChromium('console', { viewport: { width: 1280, height: 860 } });
    context = browser.context;
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(30000);
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    // The page must run with nothing added to it: the injection check looks for this global.
    await page.goto(consoleUrl);
    await page.waitForSelector('#status.open');
    facts.status = await page.textContent('#status');

    // Runs a command by typing it and pressing Enter; returns the new pane's id.
    const run = async (command) => {
        const before = await page.$$eval('.job', (nodes) => nodes.length);
        await page.fill('#command', command);
        await page.press('#command', 'Enter');
        await page.waitForFunction((n) => document.querySelectorAll('.job').length > n, before);
        return page.$eval('#jobs .job', (node) => node.dataset.id);
    };
    const finished = (id, timeout = 30000) =>
        page.waitForSelector(`.job[data-id="${id}"][data-finished="true"]`, { timeout });
    const pane = (id) => page.$eval(`.job[data-id="${id}"]`, (node) => ({
        text: node.querySelector('pre').textContent,
        state: node.querySelector('.state').textContent,
        exitCode: node.dataset.exitCode ?? null,
        stderrText: [...node.querySelectorAll('pre .stderr')].map((s) => s.textContent).join(''),
        elementsInOutput: [...node.querySelectorAll('pre *')].map((e) => e.tagName.toLowerCase())
            .filter((t) => t !== 'span'),
        dropped: node.querySelector('.dropped').hidden ? '' : node.querySelector('.dropped').textContent,
        domLines: (node.querySelector('pre').textContent.match(/\n/g) || []).length,
    }));

    // 1. Five dates one second apart: a MutationObserver in the page records when each line appeared.
    const dates = await run('for i in $(seq 1 5); do date; sleep 1; done');
    await page.evaluate((id) => {
        const pre = document.querySelector(`.job[data-id="${id}"] pre`);
        window.lineTimes = [];
        const seen = () => (pre.textContent.match(/\n/g) || []).length;
        let count = seen();
        for (let i = 0; i < count; i++) window.lineTimes.push(performance.now());
        new MutationObserver(() => {
            const now = seen();
            while (count < now) { window.lineTimes.push(performance.now()); count++; }
        }).observe(pre, { childList: true, subtree: true, characterData: true });
    }, dates);
    await finished(dates);
    facts.dates = await pane(dates);
    facts.dates.lineTimesMs = await page.evaluate(() => window.lineTimes);

    // 2. A command printing HTML: must show as text and must not run.
    const html = await run(`printf '%s\\n' '<script>window.injected = "script"</script>' '<img src=x onerror="window.injected = 1">' '<b>bold</b>'`);
    await finished(html);
    await page.waitForTimeout(300); // an <img onerror> would fire on the next tasks; give it the chance
    facts.injection = await pane(html);
    facts.injection.injected = await page.evaluate(() => window.injected ?? null);

    // 3. stderr is shown apart; a failing command shows its code.
    const failing = await run('echo to stdout; ls /no/such/dir; exit 3');
    await finished(failing);
    facts.failing = await pane(failing);

    // 4. A million lines: the page keeps a bounded tail and says how many it dropped.
    const started = Date.now();
    const many = await run('seq 1 1000000');
    await finished(many, 60000);
    facts.million = await pane(many);
    facts.million.lastLine = facts.million.text.trimEnd().split('\n').pop();
    facts.million.text = undefined;
    facts.million.ms = Date.now() - started;
    // The page still answers promptly after it.
    const t0 = Date.now();
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
    facts.million.nextFrameMs = Date.now() - t0;

    await page.click(`.job[data-id="${many}"] button.dismiss`);
    facts.million.dismissed = await page.$$eval(`.job[data-id="${many}"]`, (nodes) => nodes.length === 0);

    // 5. A stdin line reaches the running job.
    const reader = await run('read line; echo "got: $line"');
    await page.fill(`.job[data-id="${reader}"] form.stdin input`, 'hello from the browser');
    await page.press(`.job[data-id="${reader}"] form.stdin input`, 'Enter');
    await finished(reader);
    facts.stdin = await pane(reader);

    // 6. A running job (for the screenshot), then its KILL button.
    const ticking = await run('for i in $(seq 1 600); do echo "tick $i"; sleep 0.1; done');
    await page.waitForFunction((id) => (document.querySelector(`.job[data-id="${id}"] pre`).textContent
        .match(/\n/g) || []).length >= 8, ticking);
    await page.fill('#command', 'uname -a');
    // The screenshot for the README: the console with the panes above, one of them still running.
    await page.screenshot({ path: screenshot });
    await page.click(`.job[data-id="${ticking}"] button[data-signal="KILL"]`);
    await finished(ticking);
    facts.killed = await pane(ticking);
    facts.killed.text = undefined;
    facts.consoleErrors = consoleErrors;
    console.log(JSON.stringify(facts));
} catch (e) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
} finally {
    if (browser) await browser.close();
}
