package herald.testsupport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Starts mongo-java-server's in-memory backend for a test run.
 *
 * Why not de.bwaldvogel.mongo.InMemoryMongoServer's own main:
 * - in 1.47.0 it always binds localhost:27017 (no port argument), which
 *   collides with a developer's mongod, a second test run or a leftover
 *   server. This binds 127.0.0.1 on the given port (0 = any free port) and
 *   prints the bound address as "LISTENING host:port" on stdout;
 * - it announces wire version 8 (its "5.0" is wire 8), and the MongoDB
 *   Node.js driver 7 used by mongoose 9 refuses servers below wire 9
 *   (MongoDB 4.4). This announces MongoDB 4.4 / wire 9, the least the driver
 *   accepts; the 4.4 additions it then may use (hint on delete, comment,
 *   allowDiskUse on find) are opt-in per call.
 * - it exits when stdin closes, so the server dies with the test process
 *   even if that is killed with SIGKILL and never runs its teardown.
 */
public final class TestMongoServer {

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

    private TestMongoServer() {
    }

    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        MongoBackend backend = new MemoryBackend().version(MONGO_4_4);
        MongoServer server = new MongoServer(backend);
        server.bind("127.0.0.1", port);
        InetSocketAddress address = server.getLocalAddress();
        System.out.println("LISTENING " + address.getHostString() + ":" + address.getPort());
        System.out.flush();

        // Blocks until the parent closes our stdin (teardown) or dies.
        while (System.in.read() != -1) {
            // ignore anything written to us
        }
        server.shutdownNow();
        System.exit(0);
    }
}
