// Starts Debian's headless Chromium through playwright-core, the one way make interop and
// ConsoleBrowserTest both use it: a fresh profile, and the flags that keep a browser from reaching
// for the network this machine does not have.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Returns { context, close }: a persistent context on a new profile; close() also removes the profile. */
export async function launchChromium(name, options = {}) {
    const profile = mkdtempSync(join(tmpdir(), `wsexec-${name}-chromium-`));
    const removeProfile = () => rmSync(profile, { recursive: true, force: true });
    try {
        const context = await chromium.launchPersistentContext(profile, {
            executablePath: '/usr/bin/chromium',
            headless: true,
            timeout: 60000,
            ...options,
            args: ARGS,
        });
        return { context, close: async () => { await context.close().catch(() => {}); removeProfile(); } };
    } catch (e) {
        removeProfile();
        throw e;
    }
}
