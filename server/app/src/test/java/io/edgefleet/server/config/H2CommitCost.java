package io.edgefleet.server.config;

import java.nio.file.*;
import java.sql.*;
/** Cost of a durable H2 commit (WRITE_DELAY=0) against the default; see docs/security.md. */
public class H2CommitCost {
    public static void main(String[] a) throws Exception {
        for (String opt : new String[]{"", ";WRITE_DELAY=0", "", ";WRITE_DELAY=0"}) {
            Path dir = Files.createTempDirectory("h2b");
            try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + dir + "/db" + opt, "sa", "")) {
                c.createStatement().execute("create table t(id varchar(64) primary key, v varchar(200))");
                c.setAutoCommit(false);
                int n = 2000;
                long t0 = System.nanoTime();
                try (PreparedStatement ps = c.prepareStatement("insert into t values(?,?)")) {
                    for (int i = 0; i < n; i++) { ps.setString(1, "d" + i); ps.setString(2, "x".repeat(100)); ps.executeUpdate(); c.commit(); }
                }
                double us = (System.nanoTime() - t0) / 1e3 / n;
                System.out.printf("%-16s %d commits: %.1f us/commit%n", opt.isEmpty() ? "default" : opt, n, us);
            }
        }
    }
}
