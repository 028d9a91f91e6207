Feature: Connection
  The client opens the websocket when it is created, answers a challenge with
  its URL, follows redirects, gives up on rejection and keeps the heartbeat.

  Scenario: Handshake without challenge
    Given the test server is ready
    And the client is initialised
    Then the server has 1 active connections
    And the clients connection state is "AWAITING_CONNECTION"
    And no message was send to the server
    When the server sends the message C|A+
    Then the clients connection state is "AWAITING_AUTHENTICATION"
    And the server did not recieve any messages

  Scenario: A client initialised again first closes the previous one
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    When the client is initialised
    And some time passes
    Then the server has 1 active connections
    And the clients connection state is "AWAITING_CONNECTION"

  Scenario: Handshake with challenge
    Given the test server is ready
    And the client is initialised
    When the server sends the message C|CH+
    Then the clients connection state is "CHALLENGING"
    And the last message the server recieved is C|CHR|<FIRST_SERVER_URL>+
    When the server sends the message C|A+
    Then the clients connection state is "AWAITING_AUTHENTICATION"
    When the client logs in with username "XXX" and password "YYY"
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"YYY"}+
    And the clients connection state is "AUTHENTICATING"
    When the server sends the message A|A+
    Then the clients connection state is "OPEN"
    And the last login was successful

  Scenario: Challenge rejected
    Given the test server is ready
    And the client is initialised
    When the server sends the message C|CH+
    And the server sends the message C|REJ+
    Then the clients connection state is "CLOSED"
    When some time passes
    Then the server has 0 active connections
    And the clients connection state is "CLOSED"

  Scenario: Redirect to the second server
    Given the test server is ready
    And the second test server is ready
    And the client is initialised
    When the server sends the message C|CH+
    Then the last message the server recieved is C|CHR|<FIRST_SERVER_URL>+
    When the server sends the message C|RED|<SECOND_SERVER_URL>+
    And some time passes
    Then the second server has 1 active connections
    And the server has 0 active connections
    And the clients connection state is "AWAITING_CONNECTION"
    Given the client is on the second server
    When the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"YYY"}+
    When the server sends the message A|A+
    Then the clients connection state is "OPEN"
    And the last login was successful

  Scenario: The client answers a ping with a pong
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    When the server sends the message C|PI+
    Then the last message the server recieved is C|PO+
    And the server has received 1 messages

  Scenario: The client answers pings while logged in
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And the server resets its message count
    When the server sends the message C|PI+
    Then the last message the server recieved is C|PO+
    And the server has received 1 messages

  Scenario: Heartbeat timeout
    Given the test server is ready
    And the client is initialised with a small heartbeat interval
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When two seconds later
    Then the client throws a "connectionError" error with message "heartbeat not received in the last 1000 milliseconds"

  Scenario: Pings keep the connection alive
    Given the test server is ready
    And the client is initialised with a small heartbeat interval
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When some time passes
    And the server sends the message C|PI+
    And some time passes
    And the server sends the message C|PI+
    And some time passes
    And the server sends the message C|PI+
    And some time passes
    And the server sends the message C|PI+
    And some time passes
    And the server sends the message C|PI+
    And some time passes
    And the server sends the message C|PI+
    And some time passes
    Then the clients connection state is "OPEN"
    And the server has 1 active connections

  Scenario: Lost connection: the client reconnects and logs in again
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When the connection to the server is lost
    And some time passes
    Then the clients connection state is "RECONNECTING"
    And the server has 0 active connections
    And the client throws only "connectionError" errors
    When the connection to the server is reestablished
    And some time passes
    Then the server has 1 active connections
    And the clients connection state is "AWAITING_CONNECTION"
    When the server resets its message count
    And the server sends the message C|A+
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"YYY"}+
    When the server sends the message A|A+
    Then the clients connection state is "OPEN"

  Scenario: A refused reconnection reports that the server is unreachable
    The reference client's text, with the URL the vocabulary names (it follows DS_FIRST_PORT).
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When the connection to the server is lost
    And two seconds later
    Then the client throws a "connectionError" error with message "Can't connect! Deepstream server unreachable on ws://localhost:7777/deepstream"
    And the clients connection state is "RECONNECTING"
    When the client publishes an event named "news" with data "offline"
    Then the server did not recieve any messages

  Scenario: close() closes the socket and cancels the timers
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And the client subscribes to an event named "news"
    And the last message the server recieved is E|S|news+
    When the client closes the connection
    And the server resets its message count
    And some time passes
    Then the clients connection state is "CLOSED"
    And the server has 0 active connections
    And the server did not recieve any messages
