Feature: Presence
  Who is logged in (a list of users, or a map user -> online) and
  notifications when users log in and out, for everyone or for some users.
  Per-user subscriptions made together go out as one bulk message; bulk ids
  and query ids share one counter starting at 1.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: Subscribe to everyone's logins and logouts
    When the client subscribes to all presence events
    Then the last message the server recieved is U|S|S+
    When the server sends the message U|A|S|S+
    And the server sends the message U|PNJ|Homer+
    Then the client is notified that client "Homer" logged in
    When the server sends the message U|PNL|Homer+
    Then the client is notified that client "Homer" logged out

  Scenario: Unsubscribe from everyone's logins and logouts
    Given the client subscribes to all presence events
    And the server sends the message U|A|S|S+
    When the client unsubscribes to all presence events
    Then the last message the server recieved is U|US|US+
    When the server sends the message U|A|US|US+
    And the server sends the message U|PNJ|Homer+
    Then the client is not notified that client "Homer" logged in

  Scenario: No ack for the presence subscription
    When the client subscribes to all presence events
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for S"

  Scenario: Query everyone
    When the client queries for connected clients
    Then the last message the server recieved is U|Q|Q+
    When the server sends the message U|Q|Homer|Marge|Bart+
    Then the client is notified that clients "Homer,Marge,Bart" are connected

  Scenario: Query everyone when nobody else is online
    When the client queries for connected clients
    Then the last message the server recieved is U|Q|Q+
    When the server sends the message U|Q+
    Then the client is notified that no clients are connected

  Scenario: Query some users
    When the client queries if "Homer,Marge,Bart" are online
    Then the last message the server recieved is U|Q|1|["Homer","Marge","Bart"]+
    When the server sends the message U|Q|1|{"Homer":true,"Marge":true,"Bart":false}+
    Then the client is notified with '{"Homer":true,"Marge":true,"Bart":false}'

  Scenario: Subscribe to some users in one message (7.0.2 acks with "undefined")
    When the client subscribes to presence events for "Homer,Marge"
    Then the last message the server recieved is U|S|1|["Homer","Marge"]+
    When the server sends the message U|A|S|1|undefined+
    And the server sends the message U|PNJ|Homer+
    Then the client is notified that client "Homer" logged in
    When the server sends the message U|PNJ|Bart+
    Then the client is not notified that client "Bart" logged in

  Scenario: Unsubscribe from a user; ids are shared with queries
    Given the client subscribes to presence events for "Homer"
    And the server sends the message U|A|S|1|undefined+
    And the client queries if "Bart" are online
    And the server sends the message U|Q|2|{"Bart":false}+
    And the client is notified with '{"Bart":false}'
    When the client unsubscribes to presence events for "Homer"
    Then the last message the server recieved is U|US|3|["Homer"]+
    When the server sends the message U|A|US|3|undefined+
    And the server sends the message U|PNJ|Homer+
    Then the client is not notified that client "Homer" logged in

  Scenario: A query answer that is not JSON
    When the client queries if "Homer" are online
    And the server sends the message U|Q|1|{oops+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "presence answer for query 1 is not a JSON object: {oops"
    And the last error was on topic "U"

  Scenario: A presence message while presence was never used
    When the server sends the message U|Q|Homer+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "U|Q|Homer"

  Scenario: An answer without a query
    Given the client subscribes to all presence events
    And the server sends the message U|A|S|S+
    When the server sends the message U|Q|Homer+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "presence answer without a query: U|Q|Homer"

  Scenario: A login notification without a user name
    Given the client subscribes to all presence events
    And the server sends the message U|A|S|S+
    When the server sends the message U|PNJ+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "presence PNJ without a user name"

  Scenario: Subscriptions are made again after a reconnect
    Given the client subscribes to all presence events
    And the server sends the message U|A|S|S+
    And the client subscribes to presence events for "Homer"
    And the server sends the message U|A|S|1|undefined+
    When the connection to the server is lost
    And some time passes
    Then the client throws only "connectionError" errors
    When the server resets its message count
    And the connection to the server is reestablished
    And the server sends the message C|A+
    And the server sends the message A|A+
    Then the server received the message U|S|S+
    And the last message the server recieved is U|S|2|["Homer"]+
