Feature: Providing RPCs
  The client answers remote procedure calls: it accepts each request
  automatically when the provider callback returns, answers with a result,
  an error or a rejection, and rejects requests for RPCs it does not provide
  (silently, as the reference client does).

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+

  Scenario: Provide an RPC and receive the ack
    When the client provides a RPC called "toUppercase"
    Then the last message the server recieved is P|S|toUppercase+
    When the server sends the message P|A|S|toUppercase+
    And some time passes
    Then the server has received 2 messages

  Scenario: No ack for providing
    When the client provides a RPC called "toUppercase"
    And some time passes
    Then the client throws a "ACK_TIMEOUT" error with message "No ACK message received in time for toUppercase"
    And the last error was on topic "P"

  Scenario: A request is accepted automatically and answered
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    When the server sends the message P|REQ|toUppercase|1234|Sabc+
    Then the client recieves a request for a RPC called "toUppercase" with data "abc"
    And the last message the server recieved is P|A|REQ|toUppercase|1234+
    When the client responds to the RPC "toUppercase" with data "ABC"
    Then the last message the server recieved is P|RES|toUppercase|1234|SABC+

  Scenario: A request answered with structured data
    Given the client provides a RPC called "add"
    And the server sends the message P|A|S|add+
    When the server sends the message P|REQ|add|c1|O{"a":1,"b":2}+
    Then the provider of "add" was called with JSON data {"a":1,"b":2}
    When the client responds to the RPC "add" with JSON data {"sum":3}
    Then the last message the server recieved is P|RES|add|c1|O{"sum":3}+

  Scenario: A request without data
    Given the client provides a RPC called "ping"
    And the server sends the message P|A|S|ping+
    When the server sends the message P|REQ|ping|c1|U+
    Then the provider of "ping" was called with JSON data null

  Scenario: Answer with an error
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    And the server sends the message P|REQ|toUppercase|1234|Sabc+
    And the client recieves a request for a RPC called "toUppercase" with data "abc"
    When the client responds to the RPC "toUppercase" with the error "Something went wrong"
    Then the last message the server recieved is P|E|Something went wrong|toUppercase|1234+

  Scenario: Reject a request
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    And the server sends the message P|REQ|toUppercase|1234|Sabc+
    And the client recieves a request for a RPC called "toUppercase" with data "abc"
    When the client rejects the RPC "toUppercase"
    Then the last message the server recieved is P|REJ|toUppercase|1234+

  Scenario: Stop providing, then a request in flight is rejected
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    When the client stops providing a RPC called "toUppercase"
    Then the last message the server recieved is P|US|toUppercase+
    When the server sends the message P|A|US|toUppercase+
    And the server sends the message P|REQ|toUppercase|1234|Sabc+
    Then the last message the server recieved is P|REJ|toUppercase|1234+
    And the provider of "toUppercase" is not called
    And the client throws no errors

  Scenario: A request for an RPC never provided is rejected, and nothing else
    As in the reference client (its rpc-handler.js, _respondToRpc): a request
    for a name we do not provide is a normal race after an unprovide.
    Given the server resets its message count
    When the server sends the message P|REQ|nothere|1234|Sabc+
    Then the last message the server recieved is P|REJ|nothere|1234+
    And the server has received 1 messages
    And the client throws no errors

  Scenario: A request with missing parts is reported and not answered
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    When the server sends the message P|REQ|toUppercase+
    Then the client throws a "MESSAGE_PARSE_ERROR" error with message "RPC request without a name or correlation id: P|REQ|toUppercase"
    And the provider of "toUppercase" is not called
    And the last message the server recieved is P|S|toUppercase+

  Scenario: A request with undecodable data is answered with an error
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    When the server sends the message P|REQ|toUppercase|1234|Xabc+
    Then the last message the server recieved is P|E|MESSAGE_PARSE_ERROR: bad request data|toUppercase|1234+
    And the client throws a "MESSAGE_PARSE_ERROR" error with message "UNKNOWN_TYPE (Xabc) (RPC request P|REQ|toUppercase|1234|Xabc)"
    And the provider of "toUppercase" is not called

  Scenario: Providers are provided again after a reconnect
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    When the connection to the server is lost
    And some time passes
    Then the client throws only "connectionError" errors
    When the server resets its message count
    And the connection to the server is reestablished
    And the server sends the message C|A+
    And the server sends the message A|A+
    Then the server received the message P|S|toUppercase+

  Scenario: A request the server starts before any correlation id is known
    While no id is remembered, <UID> in a server message is sent as the text
    "<UID>", which is then the request's correlation id.
    Given the client provides a RPC called "toUppercase"
    And the server sends the message P|A|S|toUppercase+
    When the server sends the message P|REQ|toUppercase|<UID>|Sabc+
    Then the last message the server recieved is P|A|REQ|toUppercase|<UID>+
    And the remembered correlation id is "<UID>"
    And the client recieves a request for a RPC called "toUppercase" with data "abc"
    When the client responds to the RPC "toUppercase" with data "ABC"
    Then the last message the server recieved is P|RES|toUppercase|<UID>|SABC+
    When the server sends the message P|REQ|toUppercase|<UID>|Sdef+
    Then the last message the server recieved is P|A|REQ|toUppercase|<UID>+
    And the client recieves a request for a RPC called "toUppercase" with data "def"
