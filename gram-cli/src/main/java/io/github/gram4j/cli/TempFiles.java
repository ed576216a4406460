package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The CLI's own temporary files and directories: {@code .NAME.<hex>.tmp} beside the output
 * {@code NAME}, created and locked (an exclusive {@link FileLock}, held while the run lives) before
 * any work, and the clean-up of those that killed runs left behind.
 *
 * <p>A leftover is removed only if all of these hold: its name is exactly
 * {@code .NAME.<1 to 16 hex digits>.tmp} for the output {@code NAME} being written, it is a
 * regular file or a directory (not a symbolic link), it was last modified more than
 * {@link #STALE_AFTER} ago, and no process holds its lock (a directory's lock is its
 * {@value #LOCK_NAME} file). A file whose lock cannot be tested (a file system without locks) is
 * kept.
 */
final class TempFiles {

    /** Leftovers younger than this are never removed (a run may be between creating and locking). */
    static final Duration STALE_AFTER = Duration.ofSeconds(60);

    /** The lock file inside a temporary directory. */
    static final String LOCK_NAME = ".lock";

    private static final SecureRandom RANDOM = new SecureRandom();

    private TempFiles() {
    }

    /**
     * A created and locked temporary file or directory. Until {@link #forget}, a shutdown hook
     * removes it when the JVM exits (Ctrl-C, SIGTERM); after a SIGKILL, {@link #removeStale} of a
     * later run does. {@link #release} drops the lock.
     */
    record Locked(Path path, FileChannel channel, FileLock lock, Thread hook) {
        void release() {
            try {
                channel.close(); // releases the lock
            } catch (IOException e) {
                // nothing to do: the lock goes with the process anyway
            }
        }

        /** Unregisters the shutdown hook: the owner has removed the path or keeps it on purpose. */
        void forget() {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    private static Thread onExitDelete(Path p) {
        Thread hook = new Thread(() -> deleteTree(p), "gram-delete-temporary-output");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // too late for a hook; the stale clean-up of a later run removes it
        }
        return hook;
    }

    /** The pattern of this CLI's temporary names for the output {@code name}. */
    static Pattern pattern(String name) {
        return Pattern.compile("\\." + Pattern.quote(name) + "\\.[0-9a-f]{1,16}\\.tmp");
    }

    /** Creates and locks {@code dir/.NAME.<hex>.tmp}, a file open for writing. */
    static Locked createFile(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(randomName(name));
            FileChannel ch;
            try {
                // no attributes: the permissions follow the umask, like any new file
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        StandardOpenOption.READ);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
                continue;
            }
            return new Locked(tmp, ch, lock(ch, tmp), onExitDelete(tmp));
        }
    }

    /** Creates {@code dir/.NAME.<hex>.tmp/} with a locked {@value #LOCK_NAME} file in it. */
    static Locked createDirectory(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(randomName(name));
            try {
                Files.createDirectory(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
                continue;
            }
            Path lockFile = tmp.resolve(LOCK_NAME);
            FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            return new Locked(tmp, ch, lock(ch, lockFile), onExitDelete(tmp));
        }
    }

    private static FileLock lock(FileChannel ch, Path file) throws IOException {
        try {
            return ch.tryLock();
        } catch (IOException | UnsupportedOperationException e) {
            return null; // a file system without locks: the file is then only removed by its own run
        }
    }

    private static String randomName(String name) {
        return "." + name + "." + Long.toHexString(RANDOM.nextLong() >>> 1) + ".tmp";
    }

    /**
     * Removes the stale temporary files and directories of the output {@code name} in {@code dir}
     * (see the class comment); best effort, never fails.
     *
     * @return how many were removed
     */
    static int removeStale(Path dir, String name) {
        Pattern own = pattern(name);
        Instant before = Instant.now().minus(STALE_AFTER);
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                p -> own.matcher(p.getFileName().toString()).matches())) {
            for (Path p : entries) {
                if (removeIfStale(p, before)) {
                    removed++;
                }
            }
        } catch (IOException | RuntimeException e) {
            // an unreadable directory: nothing to clean
        }
        return removed;
    }

    private static boolean removeIfStale(Path p, Instant before) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (attrs.isSymbolicLink() || !attrs.lastModifiedTime().toInstant().isBefore(before)) {
            return false;
        }
        if (attrs.isRegularFile()) {
            if (!unlocked(p)) {
                return false;
            }
            Files.deleteIfExists(p);
            return true;
        }
        if (attrs.isDirectory()) {
            Path lockFile = p.resolve(LOCK_NAME);
            if (Files.exists(lockFile, LinkOption.NOFOLLOW_LINKS) && !unlocked(lockFile)) {
                return false;
            }
            deleteTree(p);
            return true;
        }
        return false;
    }

    /** Whether no process (this one included) holds the lock of {@code file}. */
    private static boolean unlocked(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                return false;
            }
            lock.release();
            return true;
        } catch (OverlappingFileLockException e) {
            return false; // held by this process
        } catch (NoSuchFileException e) {
            return false; // gone meanwhile
        } catch (IOException | UnsupportedOperationException e) {
            return false; // cannot tell: keep it
        }
    }

    /** Deletes a tree without following symbolic links; best effort. */
    static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(TempFiles::deleteQuietly);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(root);
        }
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // nothing more to do
        }
    }

    /** Flushes a directory's entries (the renames in it) to disk; best effort. */
    static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            // not supported everywhere (some file systems refuse fsync on directories)
        }
    }
}
