package io.github.gram4j.cli;

/**
 * A problem with the user's input (a file, an option value) rather than with the program. The CLI
 * reports it as one {@code error: <message>} line on stderr and exits with code 2.
 *
 * <p>The message must name the offending file or option and say what is wrong with it.
 */
public final class BadInputException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
