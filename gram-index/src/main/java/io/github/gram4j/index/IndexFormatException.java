package io.github.gram4j.index;

/**
 * An index directory that cannot be used: a missing, truncated or corrupted file (checksum
 * mismatch), a manifest that is not valid, or files that disagree with the manifest (dtype,
 * {@code d}, {@code K}, item counts). The message names the file and the problem.
 */
public final class IndexFormatException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** @param message names the file and the problem */
    public IndexFormatException(String message) {
        super(message);
    }

    /**
     * An index problem detected through another exception.
     *
     * @param message names the file and the problem
     * @param cause the underlying exception (e.g. a malformed {@code .npy} header or invalid UTF-8)
     */
    public IndexFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
