/** A Telegraf package version as Debian and RPM spell it (`1.30.2`, `1.30.2-1`, `1:1.30.2~rc1`). */
export const TELEGRAF_VERSION_PATTERN = /^[0-9][A-Za-z0-9.+~:-]{0,63}$/;

/** Why a version is refused (it reaches a package glob and an apt/dnf package spec). */
export const TELEGRAF_VERSION_RULE = 'expected a package version such as 1.30.2 or 1.30.2-1';

/** The version in `telegraf --version`'s first line (`Telegraf 1.30.2 (git: ...)`), or undefined. */
export function parseTelegrafVersion(line: string | undefined): string | undefined {
  const found = /\bTelegraf v?([0-9][A-Za-z0-9.+~:-]{0,63})/.exec(line ?? '')?.[1];
  return found && TELEGRAF_VERSION_PATTERN.test(found) ? found : undefined;
}
