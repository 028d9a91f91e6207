Feature: Records across a lost connection
  After a reconnect and a new login, a record's read (R|CR), its listens
  (R|L) and the path sets made while offline all reach the server in the
  turn that handles A|A, as in the reference client (it sends its
  resubscriptions in the same tick as the login answer). The sequence is the
  published conformance suite's "Record Connectivity".

  Scenario: Offline path set, then a new login: the record, its listen and the set are all sent
    Until issue 21, on MicroPython (112K heap) the login answer loaded the
    outage code (offline.py) to restore a frame that held only the path set;
    that import ran out of memory, the client stayed OPEN and never sent R|CR
    nor R|L (reported as a dropped message).
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When the client creates a record named "connectionRecord"
    Then the last message the server recieved is R|CR|connectionRecord+
    When the server sends the message R|A|S|connectionRecord+
    And the server sends the message R|R|connectionRecord|100|{"name":"John", "pets": [{"name":"Ruffles", "type":"dog","age":2}]}+
    And the client listens to a record matching "recordPrefix/.*"
    Then the last message the server recieved is R|L|recordPrefix/.*+
    When the server sends the message R|A|L|recordPrefix/.*+
    And the connection to the server is lost
    And two seconds later
    Then the client throws a "connectionError" error with message "Can't connect! Deepstream server unreachable on ws://localhost:7777/deepstream"
    And the clients connection state is "RECONNECTING"
    When the client sets the record "connectionRecord" "pets.0.name" to "Max"
    And the connection to the server is reestablished
    And the server sends the message C|A+
    Then the clients connection state is "AUTHENTICATING"
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    Then the clients connection state is "OPEN"
    And the server received the message A|REQ|{"username":"XXX","password":"YYY"}+
    And the server received the message R|P|connectionRecord|101|pets.0.name|SMax+
    And the server received the message R|CR|connectionRecord+
    And the server received the message R|L|recordPrefix/.*+
    And the last frame the server received is R|P|connectionRecord|101|pets.0.name|SMax+R|CR|connectionRecord+R|L|recordPrefix/.*+
    And the client throws no errors
