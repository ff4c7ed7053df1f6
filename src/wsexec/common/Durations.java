package wsexec.common;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them, on the command line ({@code --kill-grace 250ms}) and in the
 * protocol ({@code "keep":"2h"}): a number, possibly with a fraction or a sign, then one of
 * {@code ms}, {@code s}, {@code m}, {@code h}, {@code d}.
 */
public final class Durations {
    private static final Pattern FORM = Pattern.compile("(-?\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");

    private Durations() {
    }

    /** The duration {@code text} names, to the millisecond; null if it is not one (a unit is required). */
    public static Duration parse(String text) {
        Matcher m = FORM.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return null;
        }
        long unitMillis = switch (m.group(2)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            case "h" -> 3_600_000;
            default -> 86_400_000;
        };
        return Duration.ofMillis(Math.round(Double.parseDouble(m.group(1)) * unitMillis));
    }
}
