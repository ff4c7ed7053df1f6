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
    // What the page sends over its WebSockets (one per load), for the exec that asks for a keep.
    const sentFrames = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => sentFrames.push(String(f.payload))));
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
    const pane = (id) => paneAt(`.job[data-id="${id}"]`);
    const paneAt = (selector, on = page) => on.$eval(selector, (node) => ({
        text: node.querySelector('pre').textContent,
        state: node.querySelector('.state').textContent,
        exitCode: node.dataset.exitCode ?? null,
        stderrText: [...node.querySelectorAll('pre .stderr')].map((s) => s.textContent).join(''),
        elementsInOutput: [...node.querySelectorAll('pre *')].map((e) => e.tagName.toLowerCase())
            .filter((t) => t !== 'span'),
        dropped: node.querySelector('.dropped').hidden ? '' : node.querySelector('.dropped').textContent,
        domLines: (node.querySelector('pre').textContent.match(/\n/g) || []).length,
        gapText: [...node.querySelectorAll('pre .gap')].map((s) => s.textContent).join(''),
        keptLabel: node.querySelector('.kept').hidden ? '' : node.querySelector('.kept').textContent,
        // Signal buttons and the stdin line as the user sees them (a read-only watch has none).
        visibleControls: [...node.querySelectorAll('[data-signal], form.stdin input')]
            .filter((e) => e.getClientRects().length > 0).length,
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

    // 7. A kept job outlives a reload of its page: the reloaded page reattaches from the start and
    // shows every tick, then the exit code. A remembered job the server does not have is dropped.
    await page.check('#keep');
    const keptPane = await run('for i in 1 2 3 4 5; do echo tick $i; sleep 0.4; done; exit 3');
    await page.uncheck('#keep');
    await page.waitForFunction((id) => {
        const node = document.querySelector(`.job[data-id="${id}"]`);
        return node.dataset.job && node.querySelector('pre').textContent.includes('tick 1');
    }, keptPane);
    const keptJob = await page.$eval(`.job[data-id="${keptPane}"]`, (node) => node.dataset.job);
    facts.kept = { job: keptJob, before: await pane(keptPane) };
    facts.kept.execSent = sentFrames.filter((f) => f.includes('"exec"') && f.includes('sleep 0.4')).map((f) => JSON.parse(f));
    const goneJob = 'AAAAAAAAAAAAAAAAAAAAAA';
    await page.evaluate((gone) => {
        const list = JSON.parse(sessionStorage.getItem('wsexec-kept') || '[]');
        list.push({ job: gone, command: 'echo long gone' });
        sessionStorage.setItem('wsexec-kept', JSON.stringify(list));
    }, goneJob);
    facts.kept.storedBeforeReload = await page.evaluate(() => JSON.parse(sessionStorage.getItem('wsexec-kept')));
    await page.reload();
    await page.waitForSelector('#status.open');
    facts.kept.panesAfterReload = await page.$$eval('section.job', (nodes) => nodes.length);
    await page.waitForSelector(`.job[data-job="${keptJob}"][data-finished="true"]`, { timeout: 20000 });
    facts.kept.after = await paneAt(`.job[data-job="${keptJob}"]`);
    await page.waitForSelector(`.job[data-job="${goneJob}"][data-finished="true"]`);
    facts.kept.gone = await paneAt(`.job[data-job="${goneJob}"]`);
    facts.kept.storedAfterReload = await page.evaluate(() => JSON.parse(sessionStorage.getItem('wsexec-kept')));

    // 8. The list of kept jobs shows it; a read-only watch of it shows its output and no controls.
    await page.click('#list-kept');
    const row = `#kept tbody tr[data-job="${keptJob}"]`;
    await page.waitForSelector(row);
    facts.list = await page.$eval(row, (tr) => Object.fromEntries([...tr.querySelectorAll('td[data-field]')]
        .map((td) => [td.dataset.field, td.textContent])));
    await page.click(`${row} button.watch`);
    await page.waitForSelector(`.job[data-readonly="true"][data-job="${keptJob}"][data-finished="true"]`);
    facts.watch = await paneAt(`.job[data-readonly="true"][data-job="${keptJob}"]`);

    // 9. Output a kept job printed while nobody watched, beyond the server's small --keep-buffer:
    // a watch from the start shows a gap line, then the tail. A second tab starts the job and closes.
    const other = await context.newPage();
    await other.goto(consoleUrl);
    await other.waitForSelector('#status.open');
    await other.check('#keep');
    await other.fill('#command', 'sleep 1; seq 1 100000');
    await other.press('#command', 'Enter');
    await other.waitForSelector('#jobs .job[data-job]');
    const lostJob = await other.$eval('#jobs .job[data-job]', (node) => node.dataset.job);
    await other.close();
    let lostRow = null;
    for (let tries = 0; tries < 100 && lostRow?.state !== 'exited'; tries++) {
        await page.waitForTimeout(200);
        await page.click('#list-kept');
        await page.waitForTimeout(100);
        lostRow = await page.$$eval(`#kept tbody tr[data-job="${lostJob}"]`, (rows) => rows.length === 0 ? null
            : Object.fromEntries([...rows[0].querySelectorAll('td[data-field]')].map((td) => [td.dataset.field, td.textContent])));
    }
    facts.gap = { row: lostRow };
    await page.click(`#kept tbody tr[data-job="${lostJob}"] button.watch`);
    await page.waitForSelector(`.job[data-readonly="true"][data-job="${lostJob}"][data-finished="true"]`);
    Object.assign(facts.gap, await paneAt(`.job[data-readonly="true"][data-job="${lostJob}"]`));
    facts.gap.firstLine = facts.gap.text.split('\n')[0];
    facts.gap.lastLine = facts.gap.text.trimEnd().split('\n').pop();
    facts.gap.text = undefined;
    // No element of the kept-jobs list looks like a pane.
    facts.gap.panesOutsideJobs = await page.$$eval('.job', (nodes) => nodes.filter((n) => n.parentElement.id !== 'jobs').length);
    facts.consoleErrors = consoleErrors;
    console.log(JSON.stringify(facts));
} catch (e) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
} finally {
    if (browser) await browser.close();
}
