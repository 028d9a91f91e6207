Feature: Login
  A|REQ goes out alone in its frame; nothing else is sent before A|A, and what
  was queued meanwhile goes out in one frame right after it.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+

  Scenario: Successful login
    When the client logs in with username "XXX" and password "YYY"
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"YYY"}+
    And the last frame the server received is A|REQ|{"username":"XXX","password":"YYY"}+
    And the clients connection state is "AUTHENTICATING"
    When the server sends the message A|A+
    Then the last login was successful
    And the clients connection state is "OPEN"

  Scenario: Successful login with client data
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A|O{"favorite color":"blue","id":7}+
    Then the last login was successful
    And the last login returned the client data {"favorite color":"blue","id":7}
    And the clients connection state is "OPEN"

  Scenario: Login before the connection is accepted
    Given the client is initialised
    When the client logs in with username "XXX" and password "YYY"
    Then the server did not recieve any messages
    When the server sends the message C|A+
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"YYY"}+
    And the server has received 1 messages

  Scenario: Login failed
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|E|INVALID_AUTH_DATA|Sinvalid user+
    Then the last login failed with error message "invalid user"
    And the clients connection state is "AWAITING_AUTHENTICATION"
    When the client logs in with username "XXX" and password "ZZZ"
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"ZZZ"}+
    When the server sends the message A|A+
    Then the last login was successful
    And the clients connection state is "OPEN"

  Scenario: Too many authentication attempts
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|E|TOO_MANY_AUTH_ATTEMPTS|Stoo many authentication attempts+
    Then the last login failed with error message "too many authentication attempts"
    When the server closes the connection
    And some time passes
    Then the clients connection state is "CLOSED"
    And the server has 0 active connections
    When the server resets its message count
    And the client logs in with username "XXX" and password "YYY"
    Then the client throws a "IS_CLOSED" error with message "this client's connection was closed"
    And the server did not recieve any messages

  Scenario: Messages queued before login go out in one frame after A|A
    When the client subscribes to an event named "a"
    And the client subscribes to an event named "b"
    And the client publishes an event named "c" with data "d"
    Then the server did not recieve any messages
    When the client logs in with username "XXX" and password "YYY"
    Then the last frame the server received is A|REQ|{"username":"XXX","password":"YYY"}+
    And the server has received 1 messages
    When the server sends the message A|A+
    Then the last frame the server received is E|S|a+E|S|b+E|EVT|c|Sd+
    And the server has received 2 frames
    And the server has received 4 messages
    When the server sends the message E|A|S|a+
    And the server sends the message E|A|S|b+
    And some time passes
    Then the clients connection state is "OPEN"

  Scenario: Subscriptions queued before login do not time out
    The reference client registers ack timeouts only while OPEN.
    When the client subscribes to an event named "a"
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And some time passes
    Then the last message the server recieved is E|S|a+
    And the clients connection state is "OPEN"

  Scenario: Login refused without data
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|E|INVALID_AUTH_DATA|U+
    Then the clients connection state is "AWAITING_AUTHENTICATION"
    And the login callback was told failure without data

  Scenario: Login answers before the connection is accepted reach the login callback
    As in the reference client: the server may answer a login sent early.
    Given the client is initialised
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|E|INVALID_AUTH_DATA|Sinvalid authentication data+
    Then the last login failed with error message "invalid authentication data"
    And the clients connection state is "AWAITING_AUTHENTICATION"
    When the client logs in with username "XXX" and password "ZZZ"
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"ZZZ"}+
    When the server sends the message A|E|TOO_MANY_AUTH_ATTEMPTS|Stoo many authentication attempts+
    Then the last login failed with error message "too many authentication attempts"

  Scenario: A login accepted before the connection is accepted opens the client
    Given the client is initialised
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    Then the last login was successful
    And the clients connection state is "OPEN"

  Scenario: Auth answers with no login pending are unsolicited
    Given the client is initialised
    When the server sends the message A|A+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "A|A"
    And the clients connection state is "AWAITING_CONNECTION"
    When the server sends the message A|E|INVALID_AUTH_DATA|Sinvalid authentication data+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "A|E|INVALID_AUTH_DATA"
    And the clients connection state is "AWAITING_CONNECTION"
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message C|A+
    And the server sends the message A|A+
    Then the last login was successful
    When the server sends the message A|A+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "A|A"
    And the clients connection state is "OPEN"

  Scenario: A refused re-login raises reauthenticationFailure, not only the login callback
    The client logs in again by itself after a reconnect; when the server refuses
    the credentials it kept, the application hears it as an error event too
    (the name the JS client 7 uses). A refused login on the first link is the
    callback's alone (scenario "Login failed").
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And the connection to the server is lost
    And the connection to the server is reestablished
    And the server sends the message C|A+
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"YYY"}+
    When the server sends the message A|E|INVALID_AUTH_DATA|Spassword expired+
    Then the client throws a "reauthenticationFailure" error with message "password expired"
    And the last login failed with error message "password expired"
    And the clients connection state is "AWAITING_AUTHENTICATION"
