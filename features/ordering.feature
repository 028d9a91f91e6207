Feature: Order of what is sent
  Where one message carries several names, and where subscriptions are sent
  again after a reconnect, they go out in the order the user asked for them,
  on both runtimes (a MicroPython dict keeps no insertion order). The names
  are chosen so that an unordered registry would send them in another order.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+

  Scenario: Presence subscriptions made together go out in one message, in order
    Given the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When the client subscribes to presence events for "zoe,adam,mia,bob,eve,kim"
    Then the last message the server recieved is U|S|1|["zoe","adam","mia","bob","eve","kim"]+
    When the server sends the message U|A|S|1+
    And the client unsubscribes to presence events for "mia,zoe,kim,adam"
    Then the last message the server recieved is U|US|2|["mia","zoe","kim","adam"]+
    When the server sends the message U|A|US|2+
    And some time passes
    Then the server has received 3 messages

  Scenario: After a reconnect, events, listens, RPCs and presence are subscribed again in order
    Acks are only awaited while logged in, so everything is asked for before the login.
    Given the client subscribes to an event named "zulu"
    And the client subscribes to an event named "alpha"
    And the client subscribes to an event named "mike"
    And the client subscribes to an event named "bravo"
    And the client subscribes to an event named "kilo"
    And the client listens to events matching "zz/.*"
    And the client listens to events matching "aa/.*"
    And the client listens to events matching "mm/.*"
    And the client provides a RPC called "zap"
    And the client provides a RPC called "add"
    And the client provides a RPC called "mul"
    And the client provides a RPC called "bit"
    And the client subscribes to all presence events
    And the client subscribes to presence events for "zoe,adam,mia,bob"
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    Then the last frame the server received is E|S|zulu+E|S|alpha+E|S|mike+E|S|bravo+E|S|kilo+E|L|zz/.*+E|L|aa/.*+E|L|mm/.*+P|S|zap+P|S|add+P|S|mul+P|S|bit+U|S|S+U|S|1|["zoe","adam","mia","bob"]+
    When the connection to the server is lost
    And the connection to the server is reestablished
    And the server resets its message count
    And the server sends the message C|A+
    Then the last message the server recieved is A|REQ|{"username":"XXX","password":"YYY"}+
    When the server sends the message A|A+
    Then the last frame the server received is E|S|zulu+E|S|alpha+E|S|mike+E|S|bravo+E|S|kilo+E|L|zz/.*+E|L|aa/.*+E|L|mm/.*+P|S|zap+P|S|add+P|S|mul+P|S|bit+U|S|S+U|S|2|["zoe","adam","mia","bob"]+

  Scenario: After a reconnect, records are read again in order
    Given the client creates a record named "zeta"
    And the client creates a record named "beta"
    And the client creates a record named "mu"
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    Then the last frame the server received is R|CR|zeta+R|CR|beta+R|CR|mu+
    When the connection to the server is lost
    And the connection to the server is reestablished
    And the server resets its message count
    And the server sends the message C|A+
    And the server sends the message A|A+
    Then the last frame the server received is R|CR|zeta+R|CR|beta+R|CR|mu+

  Scenario: After a reconnect, record listens are sent again in order
    Given the client listens to a record matching "rz/.*"
    And the client listens to a record matching "ra/.*"
    And the client listens to a record matching "rm/.*"
    When the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    Then the last frame the server received is R|L|rz/.*+R|L|ra/.*+R|L|rm/.*+
    When the connection to the server is lost
    And the connection to the server is reestablished
    And the server resets its message count
    And the server sends the message C|A+
    And the server sends the message A|A+
    Then the last frame the server received is R|L|rz/.*+R|L|ra/.*+R|L|rm/.*+

  Scenario: After a reconnect, unanswered record requests are sent again in order
    Given the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When the client requests a snapshot for the record "zeta"
    And the client checks if the server has the record "beta"
    And the client requests a snapshot for the record "mu"
    And the client checks if the server has the record "eta"
    Then the last message the server recieved is R|HD|eta+
    When the connection to the server is lost
    And the connection to the server is reestablished
    And the server resets its message count
    And the server sends the message C|A+
    And the server sends the message A|A+
    Then the last frame the server received is R|SN|zeta+R|HD|beta+R|SN|mu+R|HD|eta+

  Scenario: After a reconnect, unanswered presence queries are sent again in order
    Given the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    When the client queries if "zoe,adam" are online
    And the client queries if "mia" are online
    And the client queries if "bob,eve" are online
    And the client queries if "kim" are online
    Then the last message the server recieved is U|Q|4|["kim"]+
    When the connection to the server is lost
    And the connection to the server is reestablished
    And the server resets its message count
    And the server sends the message C|A+
    And the server sends the message A|A+
    Then the last frame the server received is U|Q|1|["zoe","adam"]+U|Q|2|["mia"]+U|Q|3|["bob","eve"]+U|Q|4|["kim"]+
