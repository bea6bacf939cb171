import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.io.PrintWriter;
import java.lang.reflect.Method;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs one JUnit test method, e.g. one Jazzer {@code @FuzzTest}, in this JVM: {@code java -cp <test classpath>
 * .ci/FuzzOne.java io.example.FooFuzzTest#bar}. Jazzer fuzzes one target per JVM, so {@code .ci/fuzz} starts one JVM
 * per target, but Maven only once. Exit 0 when the method ran and passed, 1 on a failure (a finding), 2 when it was
 * not found or did not run.
 */
public class FuzzOne {
    public static void main(String[] args) throws Exception {
        if (args.length != 1 || !args[0].contains("#")) {
            System.err.println("usage: FuzzOne <class>#<method>");
            System.exit(2);
        }
        String className = args[0].substring(0, args[0].indexOf('#'));
        String methodName = args[0].substring(args[0].indexOf('#') + 1);
        Class<?> type = Class.forName(className);
        Method target = null;
        for (Method m : type.getDeclaredMethods()) {
            if (m.getName().equals(methodName)) {
                target = m;
            }
        }
        if (target == null) {
            System.err.println("fuzz: no method " + methodName + " in " + className);
            System.exit(2);
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectMethod(type, target)).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary summary = listener.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        summary.printFailuresTo(out, 25);
        if (summary.getTotalFailureCount() > 0) {
            System.exit(1);
        }
        if (summary.getTestsSucceededCount() == 0) {
            System.err.println("fuzz: " + args[0] + " did not run (" + summary.getTestsSkippedCount() + " skipped, "
                    + summary.getTestsAbortedCount() + " aborted)");
            System.exit(2);
        }
        System.exit(0);
    }
}
