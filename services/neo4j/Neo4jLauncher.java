import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * Starts the Neo4j Community engine (the same one the server distribution runs) with the Bolt
 * connector on a loopback address. Maven Central does not carry the server tarball, so this is the
 * smallest launcher over org.neo4j:neo4j. Configured by environment variables set by the Python
 * service manager; it never reads user input.
 */
public final class Neo4jLauncher {
    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        Path home = Path.of(env("NEO4J_HOME_DIR", ".data/neo4j")).toAbsolutePath();
        String host = env("NEO4J_BOLT_HOST", "127.0.0.1");
        int port = Integer.parseInt(env("NEO4J_BOLT_PORT", "7687"));
        String password = env("NEO4J_PASSWORD", "");
        long pageCacheMb = Long.parseLong(env("NEO4J_PAGECACHE_MB", "2048"));
        long txMemoryMb = Long.parseLong(env("NEO4J_TX_MEMORY_MB", "4096"));
        String txLogRetention = env("NEO4J_TX_LOG_RETENTION", "1G size");
        if (password.length() < 8) {
            System.err.println("neo4j-launcher: NEO4J_PASSWORD must have at least 8 characters");
            System.exit(2);
        }
        Files.createDirectories(home);
        // LOAD CSV may read only this folder: without it, file:/// URLs reach the whole disk.
        Path importDir = Files.createDirectories(home.resolve("import"));

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                // Keep-alives while results stream only: with ALL (the default) the server also
                // hints clients to time out reads after 120 s, and the Python driver then wraps
                // every socket read in its own task, an event-loop turn each (12 per API read).
                .setConfig(BoltConnector.connection_keep_alive_type, BoltConnector.KeepAliveRequestType.STREAMING)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.load_csv_file_url_root, importDir)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, ByteUnit.mebiBytes(txMemoryMb))
                // Neo4j keeps 2 days of transaction logs by default: test and import churn filled
                // 15 GB here with a 0.9 GB store.
                .setConfig(GraphDatabaseSettings.keep_logical_logs, txLogRetention)
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(30))
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(5))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown, "neo4j-shutdown"));

        // The default user starts with password "neo4j" and a forced change; set ours on each start
        // so the password in the environment is always the one that works.
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        system.executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));

        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        String version = db.executeTransactionally(
                "CALL dbms.components() YIELD versions RETURN versions[0] AS v", Map.of(),
                r -> r.next().get("v").toString());
        System.out.println("neo4j-launcher: Neo4j " + version + " Community ready, Bolt on " + host + ":" + port);
        System.out.flush();
        Thread.currentThread().join();
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }
}
