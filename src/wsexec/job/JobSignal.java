package wsexec.job;

/** Signals a client may send to a job (numbers as on Linux, for exit codes 128+n). */
public enum JobSignal {
    HUP(1), INT(2), QUIT(3), KILL(9), TERM(15);

    public final int number;

    JobSignal(int number) {
        this.number = number;
    }

    public static JobSignal byName(String name) {
        for (JobSignal s : values()) {
            if (s.name().equals(name) || ("SIG" + s.name()).equals(name)) {
                return s;
            }
        }
        return null;
    }

    static JobSignal byNumber(int number) {
        for (JobSignal s : values()) {
            if (s.number == number) {
                return s;
            }
        }
        return null;
    }
}
