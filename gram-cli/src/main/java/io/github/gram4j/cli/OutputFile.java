package io.github.gram4j.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Collection;
import java.util.Set;

import javax.imageio.ImageIO;

/**
 * One output file of the CLI: checked and reserved before the work starts, written atomically
 * after it. This is the only way the CLI writes a file.
 *
 * <p>{@link #reserve} checks that the output is not one of the command's inputs (also through a
 * symbolic or hard link or {@code ..}), not a directory or other non-regular file, in an existing
 * directory where a file can really be created (it creates the temporary file
 * {@code .NAME.<hex>.tmp} there and locks it, which also catches {@code /proc}, {@code /sys} and
 * read-only file systems), and that the file system has room for the expected size; it also
 * removes this CLI's stale temporary files of the same output (see {@link TempFiles}).
 * {@link #write} fills the temporary file, forces it to disk, renames it over the target and
 * forces the directory. A failure at any point leaves the target untouched and removes the
 * temporary file; every error names the option and the path.
 *
 * <p>Permissions: a replaced file keeps its permissions; a new file gets the default ones
 * ({@code 0666} minus the umask), like any file the user creates. A symbolic link as target is
 * followed: the file it points to is replaced, the link stays.
 *
 * <pre>{@code
 * try (OutputFile out = OutputFile.reserve(path, "--out", expectedBytes, inputs)) {
 *     ... the work ...
 *     out.write(channel -> ...);
 * }
 * }</pre>
 */
public final class OutputFile implements AutoCloseable {

    /** Fills the temporary file through its channel (positioned at 0). */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    private final Path target;
    private final String name;
    private final TempFiles.Locked tmp;
    private boolean done;

    private OutputFile(Path target, String name, TempFiles.Locked tmp) {
        this.target = target;
        this.name = name;
        this.tmp = tmp;
    }

    /**
     * Checks {@code out} and reserves its temporary file.
     *
     * @param out the output path as given
     * @param option the option, for messages ({@code --out})
     * @param expectedBytes the size the output will have (a lower bound; 0 if unknown)
     * @param inputs the command's input files, none of which may be the output
     * @throws BadInputException naming the option and path, if the output cannot be written
     */
    public static OutputFile reserve(Path out, String option, long expectedBytes, Collection<Path> inputs) {
        String name = option + " " + out;
        Path target = checkTarget(out, name, inputs);
        Path dir = directoryOf(target);
        TempFiles.removeStale(dir, target.getFileName().toString());
        TempFiles.Locked tmp;
        try {
            tmp = TempFiles.createFile(dir, target.getFileName().toString());
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot create a file in " + dir + ": " + reason(e), e);
        }
        OutputFile file = new OutputFile(target, name, tmp);
        try {
            checkSpace(dir, expectedBytes, name);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
        return file;
    }

    /** The file that will be replaced (a symbolic link's target). */
    public Path target() {
        return target;
    }

    /**
     * Writes the content to the temporary file, forces it to disk and renames it over the target.
     *
     * @throws BadInputException naming the path, if writing or renaming fails (a full disk, …)
     */
    public void write(Content content) {
        if (done) {
            throw new IllegalStateException(name + ": already written");
        }
        try {
            FileChannel ch = tmp.channel();
            content.writeTo(ch);
            ch.force(true);
            copyPermissions(target, tmp.path());
            Files.move(tmp.path(), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } catch (AtomicMoveNotSupportedException e) {
            throw new BadInputException(name + ": cannot rename the temporary file atomically over it: " + reason(e), e);
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot write: " + reason(e), e);
        } finally {
            close();
        }
        TempFiles.syncDirectory(directoryOf(target));
    }

    /** Writes bytes produced by {@code writer} through a buffered stream. */
    public void writeStream(StreamContent writer) {
        write(ch -> {
            OutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            writer.writeTo(os);
            os.flush();
        });
    }

    /** Fills an output stream (not closed by the content). */
    @FunctionalInterface
    public interface StreamContent {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes UTF-8 text. */
    public void writeText(CharSequence text) {
        writeStream(os -> os.write(text.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /** Writes a PNG image. */
    public void writePng(java.awt.image.RenderedImage image) {
        writeStream(os -> {
            if (!ImageIO.write(image, "png", os)) {
                throw new IOException("no PNG writer available");
            }
        });
    }

    /** Releases the reservation: removes the temporary file unless it was renamed into place. */
    @Override
    public void close() {
        tmp.release();
        if (!done) {
            TempFiles.deleteQuietly(tmp.path());
        }
        tmp.forget();
    }

    // ------------------------------------------------------------------ checks shared with OutputDirectory

    /**
     * The output's target after the checks every output gets: a file name, not an input, not a
     * directory or special file. A symbolic link to an existing file resolves to that file.
     */
    static Path checkTarget(Path out, String name, Collection<Path> inputs) {
        if (out.toString().isEmpty() || out.getFileName() == null) {
            throw new BadInputException(name + ": not a file name");
        }
        Path target = out;
        if (Files.isSymbolicLink(out) && Files.exists(out)) {
            try {
                target = out.toRealPath();
            } catch (IOException e) {
                throw new BadInputException(name + ": cannot resolve the symbolic link: " + reason(e), e);
            }
        }
        checkNotAnInput(target, name, inputs);
        if (Files.isDirectory(target)) {
            throw new BadInputException(name + ": is a directory");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new BadInputException(name + ": exists and is not a regular file; it will not be replaced");
        }
        Path dir = directoryOf(target);
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(name + ": directory " + dir + " does not exist");
        }
        return target;
    }

    /** Refuses an output that is one of the inputs: same path, or the same file by any link. */
    static void checkNotAnInput(Path target, String name, Collection<Path> inputs) {
        Path normal = target.toAbsolutePath().normalize();
        for (Path in : inputs) {
            if (in.toAbsolutePath().normalize().equals(normal) || sameFile(target, in)) {
                throw new BadInputException(name + ": is the input " + in + "; writing it would destroy that input."
                        + " Choose another output file");
            }
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** Refuses the work if the file system holding {@code dir} has less usable space than needed. */
    static void checkSpace(Path dir, long expectedBytes, String name) {
        if (expectedBytes <= 0) {
            return;
        }
        long usable;
        try {
            usable = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return; // cannot tell: the write itself will report a full disk
        }
        if (usable < expectedBytes) {
            throw new BadInputException(name + ": needs " + MemoryCheck.bytes(expectedBytes) + " but the file system of "
                    + dir + " has " + MemoryCheck.bytes(usable) + " free");
        }
    }

    static Path directoryOf(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        return dir != null ? dir : file.toAbsolutePath().getRoot();
    }

    /** An I/O error in words: the system's reason, without Java's exception class names. */
    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static void copyPermissions(Path from, Path to) {
        if (!Files.isRegularFile(from)) {
            return;
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(from);
            Files.setPosixFilePermissions(to, perms);
        } catch (IOException | UnsupportedOperationException e) {
            // keep the default permissions
        }
    }
}
