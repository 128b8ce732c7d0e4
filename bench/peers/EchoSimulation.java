import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import io.gatling.javaapi.http.*;
import java.time.Duration;

/** The peer bench's Gatling simulation: one WebSocket per user, one action every 2 s, waiting for its ack. */
public class EchoSimulation extends Simulation {
  private final int users = Integer.getInteger("users", 1);
  private final int rampSeconds = Integer.getInteger("rampSeconds", 1);
  private final int seconds = Integer.getInteger("seconds", 10);
  private final String url = System.getProperty("url", "ws://127.0.0.1:9");

  private final HttpProtocolBuilder protocol = http.wsBaseUrl(url);

  private final ScenarioBuilder echo = scenario("echo")
      .exec(ws("connect").connect("/"))
      .during(Duration.ofSeconds(seconds)).on(
          exec(ws("ping").sendText("{\"id\":1,\"op\":\"ping\"}")
              .await(10).on(ws.checkTextMessage("ack").check(regex("\"ok\":true"))))
          .pause(2))
      .exec(ws("close").close());

  {
    setUp(echo.injectOpen(rampUsers(users).during(rampSeconds))).protocols(protocol);
  }
}
