package io.github.gram4j.index;

import java.util.ArrayList;
import java.util.List;

/** Ids as text: one per line, {@code \n} or {@code \r\n}, the last newline optional, no blank line. */
final class IdLines {

    private IdLines() {
    }

    /** The ids of {@code text}; an empty text has none. */
    static List<String> split(String text) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<String> ids = new ArrayList<>();
        if (text.isEmpty()) {
            return ids;
        }
        String[] lines = text.split("\r?\n", -1);
        int n = lines[lines.length - 1].isEmpty() ? lines.length - 1 : lines.length;
        for (int i = 0; i < n; i++) {
            ids.add(lines[i]);
        }
        return ids;
    }

    /**
     * Checks that an id can be stored on one line.
     *
     * @throws IllegalArgumentException naming {@code where} if it is null, blank or holds a line break
     */
    static void check(String id, String where) {
        if (id == null || id.isBlank() || id.indexOf('\n') >= 0 || id.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(where + ": an id must be a non-blank string without line breaks, got "
                    + (id == null ? "null" : "'" + id.replace("\n", "\\n").replace("\r", "\\r") + "'"));
        }
    }
}
