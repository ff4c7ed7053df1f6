package wsexec.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** {@link Timers.Watch}: the queue of the connections' keepalive and idle looks. */
class TimersWatchTest {

    /** A watch that records its steps and stops after {@code steps} of them. */
    private static final class Recorder extends Timers.Watch {
        final String name;
        final long every;
        final int steps;
        final List<String> log;
        final CountDownLatch done;
        final AtomicInteger count = new AtomicInteger();

        Recorder(String name, long everyMillis, int steps, List<String> log, CountDownLatch done) {
            this.name = name;
            this.every = TimeUnit.MILLISECONDS.toNanos(everyMillis);
            this.steps = steps;
            this.log = log;
            this.done = done;
        }

        @Override
        protected long step() {
            log.add(name);
            if (count.incrementAndGet() == steps) {
                done.countDown();
                return -1;
            }
            return every;
        }
    }

    @Test
    void watchesRunInTheOrderTheyAreDueAndRepeatUntilTheyStop() throws Exception {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(30);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new java.util.Random(21));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            expected.add(String.format("w%02d", i));
        }
        // started in a shuffled order, due 10 ms apart: they step in the order they are due, whatever the
        // watches' thread's delays (what is overdue leaves the heap earliest first)
        for (int i : order) {
            new Recorder(String.format("w%02d", i), 1000, 1, log, done).start(TimeUnit.MILLISECONDS.toNanos(200 + 10 * i));
        }
        assertTrue(done.await(5, TimeUnit.SECONDS), "steps: " + log);
        assertEquals(expected, log);

        CountDownLatch repeated = new CountDownLatch(1);
        Recorder r = new Recorder("r", 20, 5, Collections.synchronizedList(new ArrayList<>()), repeated);
        r.start(0);
        assertTrue(repeated.await(5, TimeUnit.SECONDS), "five steps, 20 ms apart: " + r.count.get());
        Thread.sleep(100); // a sixth step would come 20 ms after the fifth
        assertEquals(5, r.count.get(), "a step that returns -1 is the last");
    }

    @Test
    void aCancelledWatchNeverStepsAndTheOthersStillDo() throws Exception {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(1);
        List<Recorder> cancelled = new ArrayList<>();
        for (int i = 0; i < 100; i++) { // many entries, so that removals from the middle of the heap happen
            Recorder w = new Recorder("x" + i, 1000, 1, log, new CountDownLatch(1));
            w.start(TimeUnit.MILLISECONDS.toNanos(500 + i));
            cancelled.add(w);
        }
        Recorder kept = new Recorder("kept", 1000, 1, log, done);
        kept.start(TimeUnit.MILLISECONDS.toNanos(1000));
        Collections.shuffle(cancelled);
        cancelled.forEach(Timers.Watch::cancel);
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals(List.of("kept"), log, "only the watch not cancelled stepped");
    }

    @Test
    void aWatchCancelledDuringItsStepIsNotScheduledAgain() throws Exception {
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        Timers.Watch watch = new Timers.Watch() {
            @Override
            protected long step() {
                steps.incrementAndGet();
                inStep.countDown();
                try {
                    release.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return 0; // would run again at once
            }
        };
        watch.start(0);
        assertTrue(inStep.await(5, TimeUnit.SECONDS));
        watch.cancel();
        release.countDown();
        CountDownLatch later = new CountDownLatch(1);
        Recorder marker = new Recorder("marker", 1000, 1, new ArrayList<>(), later);
        marker.start(TimeUnit.MILLISECONDS.toNanos(50));
        assertTrue(later.await(5, TimeUnit.SECONDS)); // the watches' thread went on past the cancelled one
        assertEquals(1, steps.get());
    }
}
