package wsexec.common;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON (RFC 8259) for the wire protocol: a strict parser into
 * {@code Map}, {@code List}, {@code String}, {@code Long}/{@code Double},
 * {@code Boolean} and {@code null}, and a writer for flat event objects.
 */
public final class Json {
    private Json() {
    }

    /** Nesting deeper than this is refused, so hostile input cannot exhaust the stack. */
    static final int MAX_DEPTH = 32;

    public static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;

        ParseException(String message, int position) {
            super(message + " at offset " + position, null, false, false);
        }
    }

    /** Parses one JSON value that must span the whole text. */
    public static Object parse(String text) throws ParseException {
        Parser parser = new Parser(text);
        parser.skipWhitespace();
        Object value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos != text.length()) {
            throw new ParseException("unexpected text after the value", parser.pos);
        }
        return value;
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        public Object value(int depth) throws ParseException {
            if (depth > MAX_DEPTH) {
                throw new ParseException("nesting deeper than " + MAX_DEPTH, pos);
            }
            if (pos >= s.length()) {
                throw new ParseException("unexpected end of input", pos);
            }
            char c = s.charAt(pos);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw new ParseException("unexpected character '" + c + "'", pos);
                }
            };
        }

        private Map<String, Object> object(int depth) throws ParseException {
            Map<String, Object> map = new LinkedHashMap<>();
            pos++;
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') {
                    throw new ParseException("expected a string key", pos);
                }
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                map.put(key, value(depth + 1));
                skipWhitespace();
                char c = next();
                if (c == '}') {
                    return map;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or '}'", pos - 1);
                }
            }
        }

        private List<Object> array(int depth) throws ParseException {
            List<Object> list = new ArrayList<>();
            pos++;
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                char c = next();
                if (c == ']') {
                    return list;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or ']'", pos - 1);
                }
            }
        }

        private String string() throws ParseException {
            pos++; // opening quote
            StringBuilder sb = null;
            int start = pos;
            while (true) {
                if (pos >= s.length()) {
                    throw new ParseException("unterminated string", start - 1);
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    String result = sb == null ? s.substring(start, pos) : sb.append(s, start, pos).toString();
                    pos++;
                    return result;
                }
                if (c < 0x20) {
                    throw new ParseException("control character in string", pos);
                }
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(s, start, pos);
                pos++;
                char e = next();
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw new ParseException("short \\u escape", pos);
                        }
                        try {
                            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw new ParseException("bad \\u escape", pos);
                        }
                        pos += 4;
                    }
                    default -> throw new ParseException("bad escape '\\" + e + "'", pos - 1);
                }
                start = pos;
            }
        }

        private Object number() throws ParseException {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            while (pos < s.length() && "0123456789.eE+-".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
            String text = s.substring(start, pos);
            if (!text.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
                throw new ParseException("malformed number", start);
            }
            if (text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0 && text.length() < 19) {
                return Long.parseLong(text);
            }
            return Double.parseDouble(text);
        }

        private Object literal(String word, Object value) throws ParseException {
            if (!s.startsWith(word, pos)) {
                throw new ParseException("unexpected token", pos);
            }
            pos += word.length();
            return value;
        }

        private char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        private char next() throws ParseException {
            if (pos >= s.length()) {
                throw new ParseException("unexpected end of input", pos);
            }
            return s.charAt(pos++);
        }

        private void expect(char c) throws ParseException {
            if (next() != c) {
                throw new ParseException("expected '" + c + "'", pos - 1);
            }
        }

        public void skipWhitespace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }
    }

    /** Appends {@code text} as a JSON string literal. */
    public static StringBuilder quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    /** Builds one flat JSON object, fields in the order they are added. */
    public static final class ObjectWriter {
        private final StringBuilder out = new StringBuilder(96).append('{');

        public ObjectWriter field(String name, String value) {
            if (value != null) {
                key(name);
                quote(out, value);
            }
            return this;
        }

        public ObjectWriter field(String name, long value) {
            key(name);
            out.append(value);
            return this;
        }

        public ObjectWriter field(String name, boolean value) {
            key(name);
            out.append(value);
            return this;
        }

        /** A field whose value is already JSON text. */
        public ObjectWriter raw(String name, String json) {
            key(name);
            out.append(json);
            return this;
        }

        private void key(String name) {
            if (out.length() > 1) {
                out.append(',');
            }
            quote(out, name).append(':');
        }

        @Override
        public String toString() {
            return out + "}";
        }
    }

    public static ObjectWriter object() {
        return new ObjectWriter();
    }
}
