package io.edgefleet.it.console;

import io.edgefleet.it.Log;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's headless Chromium driven through Debian's chromedriver (WebDriver over a local port). Nothing is
 * downloaded: the driver and browser paths are given, so Selenium Manager is not consulted. Screenshots go to
 * {@code target/surefire-reports/screenshots/}, beside the test reports.
 */
final class Browser implements AutoCloseable {
    static final Path CHROMIUM = Path.of(System.getProperty("edgefleet.it.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("edgefleet.it.chromedriver", "/usr/bin/chromedriver"));
    static final Path SCREENSHOTS = Path.of(System.getProperty("edgefleet.repo.root", ".."), "integration-tests", "target",
            "surefire-reports", "screenshots");

    final WebDriver driver;
    private final Path profile;
    private final ChromeDriverService service;
    private final String prefix;

    static boolean available() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    static String missing() {
        return "the browser tests need Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                + "); .ci/run installs them with apt";
    }

    Browser(String prefix) {
        this.prefix = prefix;
        try {
            profile = Files.createTempDirectory("edgefleet-chromium-");
            Files.createDirectories(SCREENSHOTS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-extensions", "--window-size=1400,1000", "--user-data-dir=" + profile);
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(new File(SCREENSHOTS.getParent().getParent().toFile(), "chromedriver-" + prefix + ".log"))
                .build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    String text(String css) {
        return find(css).getText().trim();
    }

    <T> T until(Duration timeout, String what, Function<WebDriver, T> condition) {
        try {
            return new WebDriverWait(driver, timeout, Duration.ofMillis(250)).withMessage(what).until(condition);
        } catch (RuntimeException e) {
            shot("timeout-" + what.replaceAll("[^A-Za-z0-9]+", "-"));
            throw e;
        }
    }

    /** Saves a PNG of the viewport as {@code <prefix>-<name>.png}. */
    Path shot(String name) {
        try {
            byte[] png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
            Path file = SCREENSHOTS.resolve(prefix + "-" + name + ".png");
            Files.write(file, png);
            Log.info("screenshot " + file);
            return file;
        } catch (IOException | RuntimeException e) {
            Log.info("no screenshot " + name + ": " + e.getMessage());
            return null;
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            io.edgefleet.it.MosquittoBroker.deleteTree(profile);
        }
    }
}
