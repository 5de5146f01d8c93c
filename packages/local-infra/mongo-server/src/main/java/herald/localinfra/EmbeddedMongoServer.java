package herald.localinfra;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;

/**
 * Starts mongo-java-server: on an H2 MVStore file for a local run that keeps
 * its data ({@code pnpm start}), or in memory for a benchmark or a test run.
 *
 * Usage: {@code EmbeddedMongoServer [port] [--h2 <file>] [--library-h2-backend]}; the last (tests
 * only) opens the file with the library's own H2 backend, to write one as earlier versions did.
 *
 * Why not de.bwaldvogel.mongo.InMemoryMongoServer's (or H2MongoServer's) own main:
 * - in 1.47.0 they always bind localhost:27017 (no port argument), which
 *   collides with a developer's mongod, a second test run or a leftover
 *   server. This binds 127.0.0.1 on the given port (0 = any free port) and
 *   prints the bound address as "LISTENING host:port" on stdout;
 * - they announce wire version 8 (their "5.0" is wire 8), and the MongoDB
 *   Node.js driver 7 used by mongoose 9 refuses servers below wire 9
 *   (MongoDB 4.4). This announces MongoDB 4.4 / wire 9, the least the driver
 *   accepts; the 4.4 additions it then may use (hint on delete, comment,
 *   allowDiskUse on find) are opt-in per call.
 * - it exits when stdin closes, so the server dies with the process that
 *   started it even if that is killed with SIGKILL and never runs its teardown.
 * - both backends are the library's own with one change to their unique
 *   indexes (MemorySupersetBackend, H2SupersetBackend): an index also
 *   answers a query that holds all its keys as plain equalities plus other
 *   fields, e.g. a compare-and-set on {@code _id} and a status, which the
 *   library otherwise answers by scanning the whole collection. See
 *   EqualitySupersetRule.
 *
 * With --h2 the MVStore commits in the background about once a second; a
 * clean stop (stdin closed, SIGTERM, SIGINT) closes the server first, so no
 * write is in flight, then closes the store, which writes what is left and
 * releases the file lock. A SIGKILL loses at most the last second: the
 * store reopens at its last complete commit.
 */
public final class EmbeddedMongoServer {

    private static final MongoVersion MONGO_4_4 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private static MongoServer server;
    private static boolean stopped;

    private EmbeddedMongoServer() {
    }

    public static void main(String[] args) throws IOException {
        int port = 0;
        String h2File = null;
        boolean libraryH2Backend = false;
        for (int i = 0; i < args.length; i++) {
            if ("--h2".equals(args[i]) && i + 1 < args.length) {
                h2File = args[++i];
            } else if ("--library-h2-backend".equals(args[i])) {
                libraryH2Backend = true;
            } else {
                port = Integer.parseInt(args[i]);
            }
        }

        MongoBackend backend;
        if (h2File == null) {
            backend = new MemorySupersetBackend().version(MONGO_4_4);
        } else {
            Path file = Path.of(h2File).toAbsolutePath();
            Files.createDirectories(file.getParent());
            try {
                backend = (libraryH2Backend ? new H2Backend(file.toString()) : new H2SupersetBackend(file.toString()))
                    .version(MONGO_4_4);
            } catch (RuntimeException e) {
                // e.g. another server holds the file's lock. The message goes last: the parent quotes
                // the log's last lines, and the stack trace alone would push it out of them.
                e.printStackTrace();
                System.err.println("cannot open " + file + ": " + e.getMessage());
                System.exit(1);
                return;
            }
        }
        server = new MongoServer(backend);
        // SIGTERM/SIGINT run shutdown hooks: the store must still be closed, not just abandoned.
        Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedMongoServer::stop, "mongo-server-shutdown"));
        int workers = Integer.getInteger("herald.mongo.workerThreads", 0);
        if (workers > 0) {
            server.bind(new InetSocketAddress("127.0.0.1", port), 1, workers);
        } else {
            server.bind("127.0.0.1", port);
        }
        InetSocketAddress address = server.getLocalAddress();
        System.out.println("LISTENING " + address.getHostString() + ":" + address.getPort());
        System.out.flush();

        // Blocks until the parent closes our stdin (a clean stop) or dies.
        while (System.in.read() != -1) {
            // ignore anything written to us
        }
        stop();
        System.out.println("STOPPED");
        System.out.flush();
        System.exit(0);
    }

    /** Closes clients, then the backend (for H2: the final commit and the file). Runs once. */
    private static synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        server.shutdownNow();
    }
}
