# wsexec — everything goes through build.sh (which finds a JDK 21+) and plain javac.
# make run     build and serve on the defaults (ws://127.0.0.1:8023/)
# make demo    start a server, run the five-dates demo through the client, stop the server
# make test    build, fetch JUnit with Maven, run every test; ends with "N passed, N failed"
# make doc     Javadoc of the exported package (wsexec.websocket) into build/doc; any doclint warning fails it

JAVA := $(shell ./build.sh --print-java 2>/dev/null)
JDK := $(shell ./build.sh --print-jdk 2>/dev/null)
JAR := build/wsexec.jar
JUNIT_VERSION := 1.14.1
JUNIT_JAR := build/lib/junit-platform-console-standalone-$(JUNIT_VERSION).jar

.PHONY: build run demo test doc interop bench clean

build:
	./build.sh

run: build
	build/wsexec serve

demo: build
	./scripts/demo.sh

$(JUNIT_JAR):
	mkdir -p build/lib
	mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$(JUNIT_VERSION) -DoutputDirectory=build/lib

test: build $(JUNIT_JAR)
	./scripts/test.sh $(JUNIT_JAR)

doc:
	rm -rf build/doc
	"$(JDK)/bin/javadoc" -Xdoclint:all -Werror -quiet -d build/doc --module-source-path wsexec=src --module wsexec
	@echo "wrote build/doc/index.html"

interop: build
	./scripts/interop.sh

bench: build
	./scripts/bench.sh

clean:
	rm -rf build
