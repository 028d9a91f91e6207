Feature: Making RPCs
  The client calls remote procedures and gets exactly one callback per call:
  the result, the server's error code, the provider's error text, or a
  timeout. Replies for unknown correlation ids are reported, never delivered.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: A successful call
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|A|REQ|toUppercase|<UID>+
    And the server sends the message P|RES|toUppercase|<UID>|SABC+
    Then the client recieves a successful RPC callback for "toUppercase" with data "ABC"

  Scenario: A call with structured data
    When the client requests RPC "add" with JSON data {"a":1,"b":2}
    Then the last message the server recieved is P|REQ|add|<UID>|O{"a":1,"b":2}+
    When the server sends the message P|A|REQ|add|<UID>+
    And the server sends the message P|RES|add|<UID>|O{"sum":3}+
    Then the client recieves a successful RPC callback for "add" with JSON data {"sum":3}

  Scenario: Nobody provides the RPC
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|E|NO_RPC_PROVIDER|toUppercase|<UID>+
    Then the client recieves an error RPC callback for "toUppercase" with the message "NO_RPC_PROVIDER"

  Scenario: The provider answers with an error (7.0.2 forwards it as a typed string)
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|A|REQ|toUppercase|<UID>+
    And the server sends the message P|E|SSomething went wrong|toUppercase|<UID>+
    Then the client recieves an error RPC callback for "toUppercase" with the message "Something went wrong"

  Scenario: The provider answers with an error (v3 forwards the text bare)
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|E|oops|toUppercase|<UID>+
    Then the client recieves an error RPC callback for "toUppercase" with the message "oops"

  Scenario: The server's accept timeout is reported as ACK_TIMEOUT
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|E|ACCEPT_TIMEOUT|toUppercase|<UID>+
    Then the client recieves an error RPC callback for "toUppercase" with the message "ACK_TIMEOUT"

  Scenario: The call is denied
    When the client requests RPC "secret" with data "abc"
    Then the last message the server recieved is P|REQ|secret|<UID>|Sabc+
    When the server sends the message P|E|MESSAGE_DENIED|secret|REQ|<UID>+
    Then the client recieves an error RPC callback for "secret" with the message "MESSAGE_DENIED"

  Scenario: No response in time
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|A|REQ|toUppercase|<UID>+
    And some time passes
    Then the client recieves an error RPC callback for "toUppercase" with the message "RESPONSE_TIMEOUT"

  Scenario: A late response is reported, not delivered twice
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When some time passes
    Then the client recieves an error RPC callback for "toUppercase" with the message "RESPONSE_TIMEOUT"
    When the server sends the message P|RES|toUppercase|<UID>|SABC+
    Then the client throws only "UNSOLICITED_MESSAGE" errors
    And the client recieves 1 RPC callback for "toUppercase"

  Scenario: A response for an unknown correlation id leaves the call pending
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|RES|toUppercase|bogus|SXYZ+
    Then the client throws a "UNSOLICITED_MESSAGE" error with message "no pending RPC for this correlation id: P|RES|toUppercase|bogus|SXYZ"
    And the client recieves 0 RPC callbacks for "toUppercase"
    When the server sends the message P|RES|toUppercase|<UID>|SABC+
    Then the client recieves a successful RPC callback for "toUppercase" with data "ABC"

  Scenario: A response with undecodable data ends the call with an error
    When the client requests RPC "toUppercase" with data "abc"
    Then the last message the server recieved is P|REQ|toUppercase|<UID>|Sabc+
    When the server sends the message P|RES|toUppercase|<UID>|O{bad+
    Then the client recieves an error RPC callback for "toUppercase" with the message "MESSAGE_PARSE_ERROR"
    And the client throws only "MESSAGE_PARSE_ERROR" errors

  Scenario: A reply with missing parts is reported
    When the client requests RPC "toUppercase" with data "abc"
    And the server sends the message P|RES|toUppercase+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "RPC response without a correlation id: P|RES|toUppercase"
    And the client recieves 0 RPC callbacks for "toUppercase"

  Scenario: Closing the client ends pending calls
    When the client requests RPC "toUppercase" with data "abc"
    And the client closes the connection
    Then the client recieves an error RPC callback for "toUppercase" with the message "IS_CLOSED"
